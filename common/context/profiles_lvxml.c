/* profiles_lvxml.c: a libvirt domain's XML -> ctx_lvdom_t (contract in profiles_lvxml.h).
 *
 * libxml2 parses with the network off and no entity substitution, and a document
 * with a DOCTYPE is refused, so nothing in it can expand or fetch. Values are
 * checked with the same functions as the profiles file's (profiles_text.c).
 *
 * Concurrency: no shared state except libxml2's one-time initialisation (pthread_once).
 */
#include "profiles_lvxml.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "ifglob.h"
#include "lvdl.h" /* libxml2, loaded by ctx_lvdom_parse() */
#include "profiles.h"
#include "profiles_int.h"

#define TEXT_MAX 255
#define IFNAME_MAX 15

struct px {
    ctx_lvdom_t *d;
    char *err;
    size_t errlen;
};

static int px_fail(struct px *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int px_fail(struct px *x, const char *fmt, ...) {
    char msg[384], q[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->d->dom_name != NULL)
        ctx_prof_quote(q, sizeof q, x->d->dom_name, strlen(x->d->dom_name));
    else
        snprintf(q, sizeof q, "?");
    if (x->err != NULL && x->errlen > 0) snprintf(x->err, x->errlen, "domain %s: %s", q, msg);
    return CTX_EPARSE;
}

static int bad(struct px *x, const char *what, const char *expected, const char *got) {
    char q[160];
    ctx_prof_quote(q, sizeof q, got, strlen(got));
    return px_fail(x, "%s: expected %s, got %s", what, expected, q);
}

static int is_el(const xmlNode *n, const char *name, const char *ns) {
    if (n == NULL || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0) return 0;
    if (ns == NULL) return n->ns == NULL;
    return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name, const char *ns) {
    for (const xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
        if (is_el(c, name, ns)) return c;
    return NULL;
}

/* malloc'd copy of an element's text or of an attribute (NULL if absent) */
static char *text_of(const xmlNode *n) {
    if (n == NULL) return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *r = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return r;
}

static char *attr(const xmlNode *n, const char *name) {
    if (n == NULL) return NULL;
    xmlChar *t = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *r = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return r;
}

static int text_valid(const char *s) {
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= TEXT_MAX && ctx_prof_text_ok((const unsigned char *)s, n);
}

static int tenant_valid(const char *s) {
    return ctx_tenant_id_valid(s) && strcmp(s, "default") != 0 && strcmp(s, "unknown") != 0;
}

/* a host-side interface name: 1..15 bytes, printable, no '/', no glob character */
static int dev_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':' || strchr("*?[]\\", c)) return 0;
    }
    return 1;
}

/* "xx:xx:xx:xx:xx:xx" lower case into out[18], unicast and not zero; 1 / 0 */
static int mac_norm(const char *s, char out[18]) {
    uint8_t m[6];
    static const uint8_t zero[6];
    if (!ctx_prof_mac_parse(s, strlen(s), m) || (m[0] & 1) || memcmp(m, zero, 6) == 0) return 0;
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return 1;
}

static int read_identity(struct px *x, const xmlNode *root) {
    ctx_lvdom_t *d = x->d;
    char norm[37];
    d->dom_name = text_of(child(root, "name", NULL));
    if (d->dom_name == NULL) return px_fail(x, "no <name>");
    if (!text_valid(d->dom_name)) {
        char *n = d->dom_name;
        d->dom_name = NULL;
        int r = bad(x, "<name>", "1 to 255 bytes of UTF-8 text without control characters", n);
        free(n);
        return r;
    }
    char *u = text_of(child(root, "uuid", NULL));
    if (u == NULL) return px_fail(x, "no <uuid>");
    int ok = ctx_prof_uuid_norm(u, strlen(u), norm);
    int r = ok ? 0 : bad(x, "<uuid>", "a UUID like \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\"", u);
    free(u);
    if (r < 0) return r;
    d->uuid = strdup(norm);
    return d->uuid ? 0 : CTX_ENOMEM;
}

static int add_iface(struct px *x, const xmlNode *itf) {
    ctx_lvdom_t *d = x->d;
    char *dev = attr(child(itf, "target", NULL), "dev");
    char *mac = attr(child(itf, "mac", NULL), "address");
    char norm[18];
    int r = 0;
    if (dev == NULL) goto out; /* not running: no vNIC yet */
    if (!dev_valid(dev) || d->n_ifaces >= CTX_LV_MAX_IFACES) {
        d->dropped++;
        goto out;
    }
    ctx_lviface_t *f = &d->ifaces[d->n_ifaces];
    f->dev = dev;
    dev = NULL;
    if (mac != NULL && mac_norm(mac, norm)) {
        if ((f->mac = strdup(norm)) == NULL) r = CTX_ENOMEM;
    } else if (mac != NULL) {
        d->dropped++;
    }
    d->n_ifaces++;
out:
    free(dev);
    free(mac);
    return r;
}

static int read_ifaces(struct px *x, const xmlNode *root) {
    const xmlNode *devs = child(root, "devices", NULL);
    x->d->ifaces = calloc(CTX_LV_MAX_IFACES, sizeof *x->d->ifaces);
    if (x->d->ifaces == NULL) return CTX_ENOMEM;
    for (const xmlNode *c = devs ? devs->children : NULL; c != NULL; c = c->next) {
        if (!is_el(c, "interface", NULL)) continue;
        int r = add_iface(x, c);
        if (r < 0) return r;
    }
    return 0;
}

/* takes ownership of v; keeps it in *slot if *slot is empty and v passes ok(), else frees it */
static void offer(char **slot, char *v, int (*ok)(const char *), unsigned *dropped) {
    if (v != NULL && *slot == NULL && ok(v)) {
        *slot = v;
        return;
    }
    if (v != NULL && *slot == NULL) (*dropped)++;
    free(v);
}

static int read_ctxlog(struct px *x, const xmlNode *vm) {
    ctx_lvdom_t *d = x->d;
    char *t = attr(vm, "tenant"), *u = attr(vm, "user");
    if (t != NULL && !tenant_valid(t)) {
        int r = bad(x, "ctxlog:vm tenant", "1 to 64 characters of A-Z a-z 0-9 . _ - (not \".\", \"..\", "
                                           "\"default\" or \"unknown\")", t);
        free(t);
        free(u);
        return r;
    }
    if (u != NULL && !text_valid(u)) {
        int r = bad(x, "ctxlog:vm user", "1 to 255 bytes of UTF-8 text without control characters", u);
        free(t);
        free(u);
        return r;
    }
    d->tenant = t;
    d->user = u;
    offer(&d->name, attr(vm, "name"), text_valid, &d->dropped);
    return 0;
}

static void read_nova(ctx_lvdom_t *d, const xmlNode *inst, const char *ns) {
    const xmlNode *owner = child(inst, "owner", ns);
    const xmlNode *user = child(owner, "user", ns);
    offer(&d->name, text_of(child(inst, "name", ns)), text_valid, &d->dropped);
    offer(&d->tenant, attr(child(owner, "project", ns), "uuid"), tenant_valid, &d->dropped);
    offer(&d->user, text_of(user), text_valid, &d->dropped);
    offer(&d->user, attr(user, "uuid"), text_valid, &d->dropped);
}

static int read_metadata(struct px *x, const xmlNode *root) {
    const xmlNode *md = child(root, "metadata", NULL);
    const xmlNode *vm = child(md, "vm", CTX_LV_NS_CTXLOG);
    if (vm != NULL) {
        int r = read_ctxlog(x, vm);
        if (r < 0) return r;
    }
    const xmlNode *nova = child(md, "instance", CTX_LV_NS_NOVA_1_1);
    const char *ns = CTX_LV_NS_NOVA_1_1;
    if (nova == NULL) nova = child(md, "instance", ns = CTX_LV_NS_NOVA_1_0);
    if (nova != NULL) read_nova(x->d, nova, ns);
    return 0;
}

static int read_cgroup(ctx_lvdom_t *d, const xmlNode *root) {
    char *type = attr(root, "type"), *id = attr(root, "id");
    char *part = text_of(child(child(root, "resource", NULL), "partition", NULL));
    const char *drv = NULL;
    char buf[512], *end = NULL;
    long n = id ? strtol(id, &end, 10) : 0;
    if (type != NULL && (strcmp(type, "kvm") == 0 || strcmp(type, "qemu") == 0)) drv = "qemu";
    if (type != NULL && strcmp(type, "lxc") == 0) drv = "lxc";
    int r = 0;
    if (drv != NULL && end != NULL && *end == '\0' && ctx_lv_machine_cgroup(drv, n, d->dom_name, part, buf,
                                                                            sizeof buf) == 0)
        r = (d->cgroup = strdup(buf)) ? 0 : CTX_ENOMEM;
    free(type);
    free(id);
    free(part);
    return r;
}

static int read_domain(struct px *x, const xmlNode *root) {
    int r;
    if ((r = read_identity(x, root)) < 0) return r;
    if ((r = read_metadata(x, root)) < 0) return r;
    if ((r = read_ifaces(x, root)) < 0) return r;
    if ((r = read_cgroup(x->d, root)) < 0) return r;
    if (x->d->name == NULL && (x->d->name = strdup(x->d->dom_name)) == NULL) return CTX_ENOMEM;
    return 0;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void) {
    xmlInitParser();
}

static int parse_doc(struct px *x, const char *xml, size_t len, xmlDoc **doc) {
    pthread_once(&xml_once, xml_init);
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) return CTX_ENOMEM;
    *doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    char msg[200] = "";
    if (*doc == NULL) {
        const char *m = ctxt->lastError.message ? ctxt->lastError.message : "unreadable";
        snprintf(msg, sizeof msg, "line %d: %.*s", ctxt->lastError.line, (int)strcspn(m, "\n"), m);
    }
    xmlFreeParserCtxt(ctxt);
    if (*doc == NULL) return px_fail(x, "not a libvirt domain document: %s", msg);
    if ((*doc)->intSubset != NULL || (*doc)->extSubset != NULL)
        return px_fail(x, "not a libvirt domain document: it has a DOCTYPE (libvirt never writes one)");
    const xmlNode *root = xmlDocGetRootElement(*doc);
    if (!is_el(root, "domain", NULL)) return px_fail(x, "not a libvirt domain document: the root is not <domain>");
    return 0;
}

int ctx_lvdom_parse(const char *xml, size_t len, ctx_lvdom_t *out, char *err, size_t errlen) {
    struct px x = {out, err, errlen};
    xmlDoc *doc = NULL;
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (xml == NULL || out == NULL) return CTX_EINVAL;
    memset(out, 0, sizeof *out);
    if (ctx_lvdl_load(err, errlen) != 0) return CTX_EIO;
    if (len > CTX_LV_MAX_XML) {
        if (err != NULL && errlen > 0) snprintf(err, errlen, "domain XML larger than %u bytes", CTX_LV_MAX_XML);
        return CTX_EFULL;
    }
    int r = parse_doc(&x, xml, len, &doc);
    if (r == 0) r = read_domain(&x, xmlDocGetRootElement(doc));
    if (r == CTX_ENOMEM && err != NULL && errlen > 0) snprintf(err, errlen, "out of memory");
    xmlFreeDoc(doc);
    return r;
}

void ctx_lvdom_clear(ctx_lvdom_t *d) {
    if (d == NULL) return;
    for (size_t i = 0; i < d->n_ifaces; i++) {
        free(d->ifaces[i].dev);
        free(d->ifaces[i].mac);
    }
    free(d->ifaces);
    free(d->dom_name);
    free(d->uuid);
    free(d->name);
    free(d->tenant);
    free(d->user);
    free(d->cgroup);
    memset(d, 0, sizeof *d);
}

/* ---- the machine.slice scope ---- */

static int put(char *out, size_t outlen, size_t *o, const char *s) {
    size_t n = strlen(s);
    if (*o + n >= outlen) return CTX_EFULL;
    memcpy(out + *o, s, n + 1);
    *o += n;
    return 0;
}

/* systemd's unit-name escaping of s */
static int put_escaped(char *out, size_t outlen, size_t *o, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[5] = {(char)c, 0};
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
              c == '.'))
            snprintf(e, sizeof e, "\\x%02x", c);
        if (put(out, outlen, o, e) < 0) return CTX_EFULL;
    }
    return 0;
}

/* libvirt's virDomainDriverGenerateMachineName for a privileged driver (libvirt 9.0,
 * src/hypervisor/domain_driver.c, virDomainMachineNameAppendValid): of the name, only
 * [A-Za-z0-9] and '-' / '.' are kept; a '-' or '.' is kept only after a kept other
 * character (a leading one and the 2nd.. of a run go: "a--b..c" -> "a-b.c"); no more
 * characters once the whole name has 64 bytes; trailing '-' and '.' are trimmed */
static void machine_name(const char *driver, long id, const char *name, char m[80]) {
    int o = snprintf(m, 80, "%s-%ld-", driver, id);
    int skip = 1;
    for (; *name && o < 64; name++) {
        char c = *name;
        if (c == '.' || c == '-') {
            if (!skip) m[o++] = c;
            skip = 1;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) continue;
        m[o++] = c;
        skip = 0;
    }
    while (o > 0 && (m[o - 1] == '-' || m[o - 1] == '.')) o--;
    m[o] = '\0';
}

int ctx_lv_machine_cgroup(const char *driver, long id, const char *dom_name, const char *partition, char *out,
                          size_t outlen) {
    char m[80];
    size_t o = 0;
    if (partition == NULL) partition = "/machine";
    if (driver == NULL || dom_name == NULL || out == NULL || id < 1 || partition[0] != '/' || partition[1] == '\0' ||
        strlen(partition) > 64 || strspn(partition + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                                      strlen(partition + 1))
        return CTX_EINVAL;
    machine_name(driver, id, dom_name, m);
    if (put(out, outlen, &o, partition) < 0 || put(out, outlen, &o, ".slice/machine-") < 0 ||
        put_escaped(out, outlen, &o, m) < 0 || put(out, outlen, &o, ".scope") < 0)
        return CTX_EFULL;
    return 0;
}
