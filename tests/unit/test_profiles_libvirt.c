/* test_profiles_libvirt.c: profiles from libvirt without a daemon: a domain's XML
 * (Nova and ctxlog metadata, hostile documents: truncated, oversized, DOCTYPE and
 * entities, wrong shapes, every byte flipped), the machine.slice cgroup name, the
 * merge with a profiles file (precedence, keys the file holds), and a profile source
 * (registry, HUP of identical bytes, libvirt's in-process test driver). */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "profiles.h"
#include "profiles_lvxml.h"
#include "profiles_merge.h"
#include "profsrc.h"

#define NOVA_DOM                                                                                                  \
    "<domain type='kvm' id='7'>\n"                                                                                \
    "  <name>instance-0000002a</name>\n"                                                                          \
    "  <uuid>6F1C2A4E-0B7D-4C1E-9A8F-2D3B4C5D6E7F</uuid>\n"                                                       \
    "  <metadata>\n"                                                                                              \
    "    <nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>\n"                              \
    "      <nova:name>web-1</nova:name>\n"                                                                        \
    "      <nova:owner><nova:user uuid='u0001'>alice</nova:user>\n"                                               \
    "        <nova:project uuid='3f9e00000000000000000000000000aa'>acme</nova:project></nova:owner>\n"            \
    "    </nova:instance>\n"                                                                                      \
    "  </metadata>\n"                                                                                             \
    "  <devices>\n"                                                                                               \
    "    <interface type='bridge'><mac address='52:54:00:AB:CD:01'/><target dev='tap1234-ab'/></interface>\n"    \
    "    <interface type='bridge'><mac address='52:54:00:ab:cd:02'/></interface>\n"                               \
    "    <interface type='bridge'><mac address='01:00:5e:00:00:01'/><target dev='tap5678-cd'/></interface>\n"    \
    "  </devices>\n"                                                                                              \
    "</domain>\n"

static ctx_lvdom_t parse_ok(const char *xml) {
    ctx_lvdom_t d;
    char err[CTX_ERRLEN] = "";
    int r = ctx_lvdom_parse(xml, strlen(xml), &d, err, sizeof err);
    if (r != 0) fail_msg("parse failed (%d): %s", r, err);
    return d;
}

static void parse_fails(const char *xml, int want, const char *msg) {
    ctx_lvdom_t d;
    char err[CTX_ERRLEN] = "";
    assert_int_equal(ctx_lvdom_parse(xml, strlen(xml), &d, err, sizeof err), want);
    if (strstr(err, msg) == NULL) fail_msg("error '%s' lacks '%s'", err, msg);
    ctx_lvdom_clear(&d);
}

static void test_nova(void **state) {
    (void)state;
    ctx_lvdom_t d = parse_ok(NOVA_DOM);
    assert_string_equal(d.dom_name, "instance-0000002a");
    assert_string_equal(d.uuid, "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f");
    assert_string_equal(d.name, "web-1");
    assert_string_equal(d.tenant, "3f9e00000000000000000000000000aa");
    assert_string_equal(d.user, "alice");
    assert_string_equal(d.cgroup, "/machine.slice/machine-qemu\\x2d7\\x2dinstance\\x2d0000002a.scope");
    assert_int_equal(d.n_ifaces, 2); /* the one without a target dev is not running: no vNIC */
    assert_string_equal(d.ifaces[0].dev, "tap1234-ab");
    assert_string_equal(d.ifaces[0].mac, "52:54:00:ab:cd:01");
    assert_string_equal(d.ifaces[1].dev, "tap5678-cd");
    assert_null(d.ifaces[1].mac); /* multicast: left out */
    assert_int_equal(d.dropped, 1);
    ctx_lvdom_clear(&d);
}

/* domain "a" (uuid ...6e7f) with metadata meta */
#define DOM_A(meta) "<domain><name>a</name><uuid>6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f</uuid><metadata>" meta "</metadata></domain>"

static void test_ctxlog_wins(void **state) {
    (void)state;
    const char *xml = "<domain type='test'><name>a</name><uuid>6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f</uuid><metadata>"
                      "<nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.0'><nova:name>n</nova:name>"
                      "<nova:owner><nova:user uuid='u1'>bob</nova:user><nova:project uuid='p1'>x</nova:project>"
                      "</nova:owner></nova:instance>"
                      "<c:vm xmlns:c='urn:ctxlog:libvirt:1' tenant='globex'/></metadata></domain>";
    ctx_lvdom_t d = parse_ok(xml);
    assert_string_equal(d.tenant, "globex"); /* ctxlog's attribute */
    assert_string_equal(d.user, "bob");      /* Nova's, ctxlog gives none */
    assert_string_equal(d.name, "n");
    assert_null(d.cgroup); /* a test domain has no machine scope */
    ctx_lvdom_clear(&d);
    /* an element of another namespace with the same local name is not ctxlog's */
    d = parse_ok(DOM_A("<c:vm xmlns:c='urn:other' tenant='evil'/>"));
    assert_null(d.tenant);
    assert_string_equal(d.name, "a");
    ctx_lvdom_clear(&d);
}

/* a tenant-chosen display name or user name that is not text leaves the domain in */
static void test_tenant_values_dropped(void **state) {
    (void)state;
    const char *xml = DOM_A("<nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
                            "<nova:name>bad&#x9;[31m</nova:name><nova:owner><nova:user uuid='u1'>x&#x7f;</nova:user>"
                            "<nova:project uuid='../etc'>p</nova:project></nova:owner></nova:instance>");
    ctx_lvdom_t d = parse_ok(xml);
    assert_string_equal(d.name, "a");
    assert_string_equal(d.user, "u1");
    assert_null(d.tenant);
    assert_int_equal(d.dropped, 3);
    ctx_lvdom_clear(&d);
}

static void test_hostile(void **state) {
    (void)state;
    parse_fails("", CTX_EPARSE, "not a libvirt domain document");
    parse_fails("<domain><name>a</name>", CTX_EPARSE, "not a libvirt domain document");
    parse_fails("<dom/>", CTX_EPARSE, "the root is not <domain>");
    parse_fails("<domain><uuid>6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f</uuid></domain>", CTX_EPARSE, "no <name>");
    parse_fails("<domain><name>a</name></domain>", CTX_EPARSE, "domain \"a\": no <uuid>");
    parse_fails("<domain><name>a</name><uuid>zz</uuid></domain>", CTX_EPARSE, "<uuid>: expected a UUID");
    parse_fails("<domain><name>a&#x9;b</name><uuid>6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f</uuid></domain>", CTX_EPARSE,
                "<name>: expected 1 to 255 bytes");
    parse_fails(DOM_A("<c:vm xmlns:c='urn:ctxlog:libvirt:1' tenant='default'/>"), CTX_EPARSE, "ctxlog:vm tenant: expected");
    /* entities: a DOCTYPE is refused before anything expands; no external fetch */
    parse_fails("<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
                "<domain><name>&b;</name></domain>",
                CTX_EPARSE, "DOCTYPE");
    parse_fails("<!DOCTYPE d SYSTEM 'http://127.0.0.1:1/x.dtd'><domain><name>a</name></domain>", CTX_EPARSE, "DOCTYPE");
    parse_fails("<domain><name>&xxe;</name></domain>", CTX_EPARSE, "not a libvirt domain document");
    /* oversized */
    size_t big = CTX_LV_MAX_XML + 1;
    char *b = malloc(big + 1);
    memset(b, ' ', big);
    b[big] = '\0';
    ctx_lvdom_t d;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_lvdom_parse(b, big, &d, err, sizeof err), CTX_EFULL);
    free(b);
    assert_int_equal(ctx_lvdom_parse(NULL, 0, &d, err, sizeof err), CTX_EINVAL);
}

/* interfaces with hostile target devs or too many of them */
static void test_hostile_ifaces(void **state) {
    (void)state;
    char *xml = malloc(64 * 1024);
    int o = sprintf(xml, "<domain><name>a</name><uuid>6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f</uuid><devices>"
                         "<interface><target dev='vnet*'/></interface><interface><target dev='a/b'/></interface>"
                         "<interface><target dev='0123456789abcdef'/></interface><interface><target dev=''/>"
                         "</interface><interface><target dev='ok0'/><mac address='zz'/></interface>");
    for (int i = 0; i < 300; i++) o += sprintf(xml + o, "<interface><target dev='t%d'/></interface>", i);
    sprintf(xml + o, "</devices></domain>");
    ctx_lvdom_t d = parse_ok(xml);
    assert_int_equal(d.n_ifaces, CTX_LV_MAX_IFACES);
    assert_string_equal(d.ifaces[0].dev, "ok0");
    assert_null(d.ifaces[0].mac);
    assert_int_equal(d.dropped, 4 + 1 + (300 - (CTX_LV_MAX_IFACES - 1)));
    ctx_lvdom_clear(&d);
    free(xml);
}

/* every prefix and every byte flipped: an error or a domain, never a crash (ASan) */
static void test_mutations(void **state) {
    (void)state;
    const char *x = NOVA_DOM;
    size_t n = strlen(x);
    char *m = malloc(n + 1);
    char err[CTX_ERRLEN];
    for (size_t cut = 0; cut <= n; cut++) {
        ctx_lvdom_t d;
        memcpy(m, x, cut);
        int r = ctx_lvdom_parse(m, cut, &d, err, sizeof err);
        assert_true(r == 0 || r == CTX_EPARSE);
        ctx_lvdom_clear(&d);
    }
    for (size_t i = 0; i < n; i++) {
        static const unsigned char flips[] = {0x00, 0xff, '<', '&', '\'', 0x80, 0x1b};
        for (size_t f = 0; f < sizeof flips; f++) {
            ctx_lvdom_t d;
            memcpy(m, x, n);
            m[i] = (char)flips[f];
            int r = ctx_lvdom_parse(m, n, &d, err, sizeof err);
            assert_true(r == 0 || r == CTX_EPARSE);
            if (r == 0 && d.tenant) assert_true(ctx_tenant_id_valid(d.tenant));
            ctx_lvdom_clear(&d);
        }
    }
    free(m);
}

static void test_cgroup_name(void **state) {
    (void)state;
    char out[256];
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 12, ".a.b_c d-", NULL, out, sizeof out), 0);
    assert_string_equal(out, "/machine.slice/machine-qemu\\x2d12\\x2da.bcd.scope");
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 3, "web.prod--01..x-", NULL, out, sizeof out), 0);
    assert_string_equal(out, "/machine.slice/machine-qemu\\x2d3\\x2dweb.prod\\x2d01.x.scope");
    assert_int_equal(ctx_lv_machine_cgroup("lxc", 1, "x", "/tenants", out, sizeof out), 0);
    assert_string_equal(out, "/tenants.slice/machine-lxc\\x2d1\\x2dx.scope");
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 1, longname, NULL, out, sizeof out), 0);
    assert_int_equal(strlen(strstr(out, "qemu")), strlen("qemu\\x2d1\\x2d") + 64 - strlen("qemu-1-") + 6);
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 0, "x", NULL, out, sizeof out), CTX_EINVAL);
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 1, "x", "/a/b", out, sizeof out), CTX_EINVAL);
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 1, "x", "/../x", out, sizeof out), CTX_EINVAL);
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 1, "x", "/a-b", out, sizeof out), CTX_EINVAL);
    assert_int_equal(ctx_lv_machine_cgroup("qemu", 1, "x", NULL, out, 10), CTX_EFULL);
}

/* The scope name against libvirt itself: the libvirt0 the modules link with exports
 * (as private symbols) the functions libvirtd names a machine and its scope with;
 * ours must give the same path for every name (fixed and random ones, every byte
 * class: kept, dropped, '-' '.' runs, non-ASCII, over 64 bytes). */
static void test_cgroup_name_libvirt(void **state) {
    (void)state;
    void *h = dlopen("libvirt.so.0", RTLD_NOW);
    assert_non_null(h);
    void *g = dlsym(h, "virDomainDriverGenerateMachineName"), *sc = dlsym(h, "virSystemdMakeScopeName");
    if (g == NULL || sc == NULL)
        fail_msg("libvirt.so.0 has no virDomainDriverGenerateMachineName / virSystemdMakeScopeName (private "
                 "symbols of libvirt >= 6.1; Debian 12 has 9.0): the scope name cannot be checked");
    char *(*gen)(const char *, const char *, int, const char *, bool);
    char *(*scope)(const char *, const char *, bool);
    memcpy(&gen, &g, sizeof gen);
    memcpy(&scope, &sc, sizeof scope);
    static const char *fixed[] = {"instance-0000002a", "web.example.com", ".a.b_c d-", "--x--", "..", "a\\b/c",
                                  "\xc3\xa4", "x y", "-", "a.-.-b", "A:B_C"};
    static const char alphabet[] = "aZ9-.-._ /\\:\x01\xc3\xa4";
    unsigned seed = 18;
    char name[120], want[512], out[512];
    for (int i = 0; i < 3000; i++) {
        const char *n = name;
        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            n = fixed[i];
        } else {
            size_t len = (size_t)(rand_r(&seed) % 100);
            for (size_t k = 0; k < len; k++) name[k] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
            name[len] = '\0';
        }
        int id = 1 + rand_r(&seed) % 5000;
        const char *drv = i % 7 == 0 ? "lxc" : "qemu";
        char *m = gen(drv, NULL, id, n, true);
        char *s = m ? scope(m, drv, false) : NULL;
        assert_non_null(s);
        snprintf(want, sizeof want, "/machine.slice/%s", s);
        free(s);
        free(m);
        assert_int_equal(ctx_lv_machine_cgroup(drv, id, n, NULL, out, sizeof out), 0);
        if (strcmp(out, want) != 0) fail_msg("name \"%s\" (id %d): libvirt %s, ours %s", n, id, want, out);
    }
    dlclose(h);
}

/* ---- merge ---- */

static ctx_profiles_t *merged(const char *file, const char **xmls, size_t n, ctx_merge_stats_t *st) {
    ctx_lvdom_t d[8];
    ctx_profiles_t *f = NULL, *p = NULL;
    char err[CTX_ERRLEN] = "";
    for (size_t i = 0; i < n; i++) d[i] = parse_ok(xmls[i]);
    if (file && ctx_profiles_load_buffer(file, strlen(file), "f.json", &f, err, sizeof err) != 0)
        fail_msg("file: %s", err);
    int r = ctx_profiles_merge(file, file ? strlen(file) : 0, f, d, n, "merged", &p, st, err, sizeof err);
    if (r != 0) fail_msg("merge failed (%d): %s", r, err);
    for (size_t i = 0; i < n; i++) ctx_lvdom_clear(&d[i]);
    ctx_profiles_unref(f);
    return p;
}

#define DOM(name, uuid, md, devs) \
    "<domain type='test'><name>" name "</name><uuid>" uuid "</uuid><metadata>" md "</metadata><devices>" devs \
    "</devices></domain>"
#define IF(dev, mac) "<interface><mac address='" mac "'/><target dev='" dev "'/></interface>"
#define CTXVM(t, u) "<c:vm xmlns:c='urn:ctxlog:libvirt:1' tenant='" t "' user='" u "'/>"
#define UA "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e01"
#define UB "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e02"
#define UC "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e03"

static void test_merge_libvirt_only(void **state) {
    (void)state;
    const char *x[] = {DOM("a", UA, CTXVM("t1", "u1"), IF("vnet1", "52:54:00:00:00:01")),
                       DOM("nobody", UB, "", IF("vnet2", "52:54:00:00:00:02"))};
    ctx_merge_stats_t st;
    ctx_profiles_t *p = merged(NULL, x, 2, &st);
    assert_int_equal(ctx_profiles_count(p), 1);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.no_tenant, 1);
    ctx_match_t how;
    const ctx_profile_t *vm = ctx_profiles_by_vnic(p, "vnet1", &how);
    assert_non_null(vm);
    assert_int_equal(how, CTX_MATCH_VNIC);
    assert_string_equal(vm->tenant, "t1");
    assert_string_equal(vm->user, "u1");
    assert_string_equal(vm->uuid, UA);
    assert_null(ctx_profiles_by_vnic(p, "vnet2", NULL));
    ctx_profiles_unref(p);
}

static void test_merge_precedence(void **state) {
    (void)state;
    /* A: matched by uuid, the file sets name and tenant; B: matched by name, the file's vnic wins;
     * C: only in libvirt, its vNIC is the file's VM D's: left out, so are its MACs */
    const char *file = "{\"defaults\": {\"tenant\": \"deft\"}, \"vms\": ["
                       "{\"uuid\": \"" UA "\", \"name\": \"file-a\", \"tenant\": \"fa\"},"
                       "{\"name\": \"b\", \"vnic\": \"tapb\"},"
                       "{\"name\": \"d\", \"tenant\": \"fd\", \"vnic\": \"vnet3\", \"mac\": \"52:54:00:00:00:09\"}]}";
    const char *x[] = {DOM("a", UA, CTXVM("ta", "ua"), IF("vnet1", "52:54:00:00:00:01")),
                       DOM("b", UB, CTXVM("tb", "ub"), IF("vnet2", "52:54:00:00:00:02")),
                       DOM("c", UC, "", IF("vnet3", "52:54:00:00:00:03") IF("vnet4", "52:54:00:00:00:09"))};
    ctx_merge_stats_t st;
    ctx_profiles_t *p = merged(file, x, 3, &st);
    assert_int_equal(st.matched, 2);
    assert_int_equal(st.added, 1);
    const ctx_profile_t *a = ctx_profiles_by_vnic(p, "vnet1", NULL);
    assert_non_null(a);
    assert_string_equal(a->name, "file-a");
    assert_string_equal(a->tenant, "fa");
    assert_string_equal(a->user, "ua");
    const ctx_profile_t *b = ctx_profiles_by_vnic(p, "tapb", NULL);
    assert_non_null(b);
    assert_string_equal(b->tenant, "tb"); /* libvirt's tenant before the file's defaults */
    assert_string_equal(b->uuid, UB);
    assert_null(ctx_profiles_by_vnic(p, "vnet2", NULL));
    const ctx_profile_t *d = ctx_profiles_by_vnic(p, "vnet3", NULL);
    assert_string_equal(d->name, "d");
    const ctx_profile_t *c = ctx_profiles_by_vnic(p, "vnet4", NULL);
    assert_non_null(c);
    assert_string_equal(c->name, "c");
    assert_string_equal(c->tenant, "deft");
    assert_int_equal(c->n_macs, 0); /* 52:54:00:00:00:09 is d's */
    uint8_t mac9[6] = {0x52, 0x54, 0, 0, 0, 9};
    assert_ptr_equal(ctx_profiles_by_mac(p, mac9, NULL), d);
    assert_int_equal(st.keys_dropped, 2);
    ctx_profiles_unref(p);
}

/* ---- the source: registry and HUP of the same bytes ---- */

/* path (a file made from its XXXXXX template the first time) = profiles of one VM "a" on vnet1
 * of tenant */
static void write_profiles(char *path, const char *tenant) {
    if (strstr(path, "XXXXXX") != NULL) {
        int fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        close(fd);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"vms\": [{\"name\": \"a\", \"tenant\": \"%s\", \"vnic\": \"vnet1\"}]}", tenant);
    assert_int_equal(fclose(f), 0);
}

static void test_source_shared(void **state) {
    (void)state;
    char path[] = "/tmp/ctxlog-profsrc-XXXXXX";
    write_profiles(path, "t1");
    ctx_profsrc_t *s1 = NULL, *s2 = NULL, *s3 = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_profsrc_acquire(path, NULL, &s1, err, sizeof err), 0);
    assert_int_equal(ctx_profsrc_acquire(path, NULL, &s2, err, sizeof err), 0);
    assert_ptr_equal(s1, s2);
    assert_int_equal(ctx_profsrc_acquire(path, "test:///default", &s3, err, sizeof err), 0);
    assert_ptr_not_equal(s1, s3);
    char msg[CTX_ERRLEN];
    assert_int_equal(ctx_profsrc_overlap(s1, msg, sizeof msg), 1); /* the same file, not the same source */
    assert_non_null(strstr(msg, "are two sources"));
    assert_non_null(strstr(msg, "test:///default"));
    int changed = -1;
    assert_int_equal(ctx_profsrc_reload(s1, &changed, err, sizeof err), 0);
    assert_int_equal(changed, 0);
    write_profiles(path, "t2");
    uint64_t gen = ctx_slot_generation(ctx_profsrc_slot(s2));
    assert_int_equal(ctx_profsrc_reload(s1, &changed, err, sizeof err), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(ctx_profsrc_reload(s2, &changed, err, sizeof err), 0);
    assert_int_equal(changed, 0); /* the other module's HUP: already installed */
    assert_int_equal(ctx_slot_generation(ctx_profsrc_slot(s2)), gen + 1);
    ctx_profiles_t *p = ctx_profsrc_get(s2);
    assert_string_equal(ctx_profiles_by_vnic(p, "vnet1", NULL)->tenant, "t2");
    ctx_profiles_unref(p);
    ctx_profsrc_release(s3);
    assert_int_equal(ctx_profsrc_overlap(s1, msg, sizeof msg), 0); /* one source left */
    assert_int_equal(ctx_profsrc_acquire(NULL, "no uri", &s3, err, sizeof err), CTX_EINVAL);
    assert_non_null(strstr(err, "expected a libvirt connection URI"));
    ctx_profsrc_release(s1);
    ctx_profsrc_release(s2);
    unlink(path);
}

/* a listener sees the store in use when it listens, then every store installed, in
 * order: the last it saw is always the one in use (a HUP's reload included) */
struct seen {
    int calls;
    const ctx_profiles_t *last;
};
static void on_store(void *arg, const ctx_profiles_t *p) {
    struct seen *w = arg;
    w->calls++;
    w->last = p;
}

static void test_source_listeners(void **state) {
    (void)state;
    char path[] = "/tmp/ctxlog-profsrc-XXXXXX";
    write_profiles(path, "t1");
    ctx_profsrc_t *s = NULL;
    char err[CTX_ERRLEN];
    assert_int_equal(ctx_profsrc_acquire(path, NULL, &s, err, sizeof err), 0);
    struct seen w = {0, NULL}, many[16];
    assert_int_equal(ctx_profsrc_listen(s, on_store, &w), 0);
    ctx_profiles_t *p = ctx_profsrc_get(s);
    assert_int_equal(w.calls, 1);
    assert_ptr_equal(w.last, p);
    ctx_profiles_unref(p);
    int changed = -1;
    assert_int_equal(ctx_profsrc_reload(s, &changed, err, sizeof err), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(w.calls, 1); /* the same bytes: no new store */
    write_profiles(path, "t2");
    assert_int_equal(ctx_profsrc_reload(s, &changed, err, sizeof err), 0);
    assert_int_equal(changed, 1);
    p = ctx_profsrc_get(s);
    assert_int_equal(w.calls, 2);
    assert_ptr_equal(w.last, p);
    assert_string_equal(ctx_profiles_by_vnic(w.last, "vnet1", NULL)->tenant, "t2");
    ctx_profiles_unref(p);
    for (int i = 0; i < 15; i++) assert_int_equal(ctx_profsrc_listen(s, on_store, &many[i]), 0);
    assert_int_equal(ctx_profsrc_listen(s, on_store, &many[15]), CTX_EFULL);
    for (int i = 0; i < 15; i++) ctx_profsrc_unlisten(s, &many[i]);
    ctx_profsrc_unlisten(s, &w);
    write_profiles(path, "t1");
    assert_int_equal(ctx_profsrc_reload(s, &changed, err, sizeof err), 0);
    assert_int_equal(w.calls, 2); /* no longer listening */
    ctx_profsrc_release(s);
    unlink(path);
}

/* libvirt's test driver in this process: the watcher connects, scans and installs */
static void test_source_test_driver(void **state) {
    (void)state;
    char dir[] = "/tmp/ctxlog-lv-XXXXXX", node[128];
    assert_non_null(mkdtemp(dir));
    snprintf(node, sizeof node, "%s/node.xml", dir);
    FILE *f = fopen(node, "w");
    fputs("<node><domain type='test'><name>a</name><uuid>" UA "</uuid><memory>65536</memory><os><type>hvm</type>"
          "</os><metadata>" CTXVM("t1", "u1") "</metadata><devices><interface type='ethernet'>"
          "<mac address='52:54:00:00:00:01'/><target dev='vmtap1'/></interface></devices></domain></node>",
          f);
    fclose(f);
    char uri[200], err[CTX_ERRLEN];
    snprintf(uri, sizeof uri, "test://%s", node);
    ctx_profsrc_t *s = NULL;
    assert_int_equal(ctx_profsrc_acquire(NULL, uri, &s, err, sizeof err), 0);
    ctx_profiles_t *p0 = ctx_profsrc_get(s);
    assert_int_equal(ctx_profiles_count(p0), 0); /* nothing until connected */
    ctx_profiles_unref(p0);
    assert_int_equal(ctx_profsrc_start(s, NULL, err, sizeof err), 0);
    ctx_profsrc_stats_t st;
    for (int i = 0; i < 3000; i++) { /* up to 30 s: a loaded host */
        ctx_profsrc_stats(s, &st);
        if (st.lv_updates > 0) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st.lv_updates, 1);
    assert_int_equal(st.connected, 1);
    assert_int_equal(st.domains, 1);
    ctx_profiles_t *p = ctx_profsrc_get(s);
    const ctx_profile_t *vm = ctx_profiles_by_vnic(p, "vmtap1", NULL);
    assert_non_null(vm);
    assert_string_equal(vm->tenant, "t1");
    ctx_profiles_unref(p);
    ctx_profsrc_release(s);
    unlink(node);
    rmdir(dir);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(test_nova),
    cmocka_unit_test(test_ctxlog_wins),
    cmocka_unit_test(test_tenant_values_dropped),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_hostile_ifaces),
    cmocka_unit_test(test_mutations),
    cmocka_unit_test(test_cgroup_name),
    cmocka_unit_test(test_cgroup_name_libvirt),
    cmocka_unit_test(test_merge_libvirt_only),
    cmocka_unit_test(test_merge_precedence),
    cmocka_unit_test(test_source_shared),
    cmocka_unit_test(test_source_listeners),
    cmocka_unit_test(test_source_test_driver))
