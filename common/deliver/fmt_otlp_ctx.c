/* fmt_otlp_ctx.c: a record's $!ctx as OTLP attributes (docs/omtenant.md#otlp).
 *
 * The context splits in two:
 * - what describes the source, the same for every message of a VM until it changes, becomes
 *   the ResourceLogs' resource attributes: $!ctx!vm (with the address, MAC and vNIC the VM
 *   sends from and how it was found: a VM's messages from a second vNIC or address are a
 *   second resource, as they are a second source), $!ctx!cm, $!ctx!host, and the policy's
 *   $!ctx!tags (like its levels, which already give each level's context its own resource);
 * - what differs per message becomes LogRecord attributes: $!ctx!capture (the packet's
 *   addresses, ports and times), $!ctx!vm!process (the sending process), $!ctx!drop.
 * So a record carries only its message's own fields: nothing proportional to the context's
 * size is written per record.
 * Members with an OpenTelemetry semantic-convention name get it (table SEMCONV); the others
 * keep their $!ctx path under "ctxlog.": $!ctx!cm!vcpus is ctxlog.cm.vcpus. Nested objects
 * are flattened into dotted keys (backends index flat attributes best); arrays stay arrays,
 * their object elements become key-value lists.
 *
 * Called once per distinct context text of a batch, never per record.
 * Concurrency: no state.
 */
#include <json.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt_otlp_int.h"
#include "textcheck.h"

#define CTX_DEPTH_MAX 32
#define KEY_MAX 512

enum { K_STR, K_OSTYPE, K_IP, K_MAC };

/* semantic-convention names (OpenTelemetry semantic conventions: resource attributes host.*,
 * os.*, cloud.*) for string members of $!ctx!vm and $!ctx!cm; other types, and values not
 * of the form the convention asks for, keep ctxlog.* */
static const struct {
    const char *group, *member, *attr;
    int kind;
} SEMCONV[] = {
    {"vm", "name", "host.name", K_STR},                /* the VM is the host its logs come from */
    {"vm", "uuid", "host.id", K_STR},                  /* "for cloud: the instance id" */
    {"vm", "ip", "host.ip", K_IP},                     /* string[]: the address the VM sends from */
    {"vm", "mac", "host.mac", K_MAC},                  /* string[], IEEE RA form: AC-DE-48-23-45-67 */
    {"cm", "flavor", "host.type", K_STR},              /* "for cloud: the machine type" */
    {"cm", "guest_os", "os.description", K_STR},       /* free text such as debian-12 */
    {"cm", "os_type", "os.type", K_OSTYPE},            /* only a value of the enum */
    {"cm", "project_id", "cloud.account.id", K_STR},   /* OpenStack project / account */
    {"cm", "region", "cloud.region", K_STR},
    {"cm", "availability_zone", "cloud.availability_zone", K_STR},
};

static const char *const OS_TYPES[] = {"windows", "linux", "darwin", "freebsd", "netbsd", "openbsd",
                                       "dragonflybsd", "hpux", "aix", "solaris", "zos"};

static int is_per_message(const char *group, const char *member) {
    if (group == NULL) return strcmp(member, "capture") == 0 || strcmp(member, "drop") == 0;
    return strcmp(group, "vm") == 0 && strcmp(member, "process") == 0;
}

static void put_value(ot_w_t *w, struct fjson_object *v, int depth);

static void put_kvlist(ot_w_t *w, struct fjson_object *o, int depth) {
    size_t mk = ot_av_kvlist_open(w);
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        ot_mark_t m = ot_kv_begin(w, OT_KVLIST_VALUES, k, strlen(k));
        put_value(w, fjson_object_iter_peek_value(&it), depth + 1);
        ot_kv_end(w, m);
    }
    ot_av_kvlist_close(w, mk);
}

/* an AnyValue's content (null: an empty AnyValue) */
static void put_value(ot_w_t *w, struct fjson_object *v, int depth) {
    if (depth > CTX_DEPTH_MAX) return;
    switch (fjson_object_get_type(v)) {
        case fjson_type_string:
            ot_av_str(w, fjson_object_get_string(v), (size_t)fjson_object_get_string_len(v));
            break;
        case fjson_type_int:
            ot_av_int(w, fjson_object_get_int64(v));
            break;
        case fjson_type_double:
            ot_av_double(w, fjson_object_get_double(v));
            break;
        case fjson_type_boolean:
            ot_av_bool(w, fjson_object_get_boolean(v));
            break;
        case fjson_type_object:
            put_kvlist(w, v, depth);
            break;
        case fjson_type_array: {
            size_t ma = ot_av_array_open(w);
            int n = fjson_object_array_length(v);
            for (int i = 0; i < n; i++) {
                size_t me = ot_elem_begin(w);
                put_value(w, fjson_object_array_get_idx(v, i), depth + 1);
                ot_elem_end(w, me);
            }
            ot_av_array_close(w, ma);
            break;
        }
        default:
            break;
    }
}

/* member v of key `key` (a dotted path of klen bytes in key[]): objects are flattened */
static void put_flat(ot_w_t *w, unsigned field, char *key, size_t klen, struct fjson_object *v, int depth) {
    if (v == NULL) return; /* JSON null: absent */
    if (fjson_object_get_type(v) == fjson_type_object && depth < CTX_DEPTH_MAX) {
        struct fjson_object_iterator it = fjson_object_iter_begin(v), end = fjson_object_iter_end(v);
        for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
            const char *k = fjson_object_iter_peek_name(&it);
            size_t kn = strlen(k);
            if (klen + 1 + kn >= KEY_MAX) { /* too deep a path: this member as one kvlist */
                ot_mark_t m = ot_kv_begin(w, field, key, klen);
                put_value(w, v, depth);
                ot_kv_end(w, m);
                return;
            }
        }
        for (it = fjson_object_iter_begin(v); !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
            const char *k = fjson_object_iter_peek_name(&it);
            size_t kn = strlen(k);
            key[klen] = '.';
            memcpy(key + klen + 1, k, kn + 1);
            put_flat(w, field, key, klen + 1 + kn, fjson_object_iter_peek_value(&it), depth + 1);
        }
        key[klen] = '\0';
        return;
    }
    ot_mark_t m = ot_kv_begin(w, field, key, klen);
    put_value(w, v, depth);
    ot_kv_end(w, m);
}

/* a MAC address of six octets (':' or '-' between them, any case) in the IEEE RA form the
 * convention asks for, into out[18]; 0, or -1 if s is not one */
static int mac_ieee_ra(const char *s, size_t n, char out[18]) {
    static const char HEXU[] = "0123456789ABCDEF";
    if (n != 17) return -1;
    for (size_t i = 0; i < 17; i++) {
        char c = s[i];
        if (i % 3 == 2) {
            if (c != ':' && c != '-') return -1;
            out[i] = '-';
            continue;
        }
        int v = ctx_hexval((unsigned char)c);
        if (v < 0) return -1;
        out[i] = HEXU[v];
    }
    out[17] = '\0';
    return 0;
}

/* the KeyValue key = [v]: an array of one string (host.ip, host.mac are string[]) */
static void kv_str_array1(ot_w_t *w, unsigned field, const char *key, const char *v, size_t vn) {
    ot_mark_t m = ot_kv_begin(w, field, key, strlen(key));
    size_t a = ot_av_array_open(w);
    size_t e = ot_elem_begin(w);
    ot_av_str(w, v, vn);
    ot_elem_end(w, e);
    ot_av_array_close(w, a);
    ot_kv_end(w, m);
}

/* the member as its semantic-convention attribute; 0 if it has none (or its value does not fit).
 * spoofed: the packet's address or MAC belongs to another VM (imctxcap's $!ctx!vm!spoof), so
 * neither is this host's: they keep ctxlog.vm.ip / ctxlog.vm.mac, never host.ip / host.mac */
static int put_semconv(ot_w_t *w, unsigned field, const char *group, const char *member, struct fjson_object *v,
                       int spoofed) {
    if (fjson_object_get_type(v) != fjson_type_string) return 0;
    const char *s = fjson_object_get_string(v);
    size_t n = (size_t)fjson_object_get_string_len(v);
    for (size_t i = 0; i < sizeof(SEMCONV) / sizeof(SEMCONV[0]); i++) {
        if (strcmp(SEMCONV[i].group, group) != 0 || strcmp(SEMCONV[i].member, member) != 0) continue;
        char mac[18];
        switch (SEMCONV[i].kind) {
            case K_OSTYPE: {
                size_t j = 0;
                while (j < sizeof(OS_TYPES) / sizeof(OS_TYPES[0]) && strcmp(OS_TYPES[j], s) != 0) j++;
                if (j == sizeof(OS_TYPES) / sizeof(OS_TYPES[0]) || strlen(s) != n) return 0;
                break;
            }
            case K_IP:
                if (spoofed || !ctx_inet_text(AF_UNSPEC, s, n)) return 0;
                kv_str_array1(w, field, SEMCONV[i].attr, s, n);
                return 1;
            case K_MAC:
                if (spoofed || mac_ieee_ra(s, n, mac) != 0) return 0;
                kv_str_array1(w, field, SEMCONV[i].attr, mac, 17);
                return 1;
            default:
                break;
        }
        ot_kv_str(w, field, SEMCONV[i].attr, s, n);
        return 1;
    }
    return 0;
}

/* the members of group $!ctx!<group> (an object) */
static void put_group(ot_w_t *w, unsigned res_field, ot_w_t *m, const char *group, struct fjson_object *o,
                      char *key) {
    size_t glen = strlen(group);
    int spoofed = strcmp(group, "vm") == 0 && fjson_object_object_get_ex(o, "spoof", NULL);
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        struct fjson_object *v = fjson_object_iter_peek_value(&it);
        size_t kn = strlen(k);
        int per = is_per_message(group, k);
        if (v == NULL || put_semconv(per ? m : w, per ? OT_LR_ATTRIBUTES : res_field, group, k, v, spoofed)) continue;
        if (7 + glen + 1 + kn >= KEY_MAX) continue; /* a key no backend would take */
        memcpy(key, "ctxlog.", 7);
        memcpy(key + 7, group, glen);
        key[7 + glen] = '.';
        memcpy(key + 8 + glen, k, kn + 1);
        if (per)
            put_flat(m, OT_LR_ATTRIBUTES, key, 8 + glen + kn, v, 2);
        else
            put_flat(w, res_field, key, 8 + glen + kn, v, 2);
    }
}

int ot_ctx_attrs(const char *ctx, size_t n, ot_w_t *w, unsigned res_field, ot_w_t *m) {
    if (n == 0) return 0;
    struct fjson_tokener *tok = fjson_tokener_new_ex(CTX_DEPTH_MAX);
    if (tok == NULL) return CTX_ENOMEM;
    struct fjson_object *o = n < (size_t)INT32_MAX ? fjson_tokener_parse_ex(tok, ctx, (int)n) : NULL;
    int bad = o == NULL || fjson_tokener_get_error(tok) != fjson_tokener_success || (size_t)tok->char_offset != n ||
              fjson_object_get_type(o) != fjson_type_object;
    fjson_tokener_free(tok);
    if (bad) { /* not a JSON object (never from outrec): kept whole, as text */
        fjson_object_put(o);
        ot_kv_str(w, res_field, "ctxlog.ctx", ctx, n);
        return w->err;
    }
    char key[KEY_MAX];
    struct fjson_object_iterator it = fjson_object_iter_begin(o), end = fjson_object_iter_end(o);
    for (; !fjson_object_iter_equal(&it, &end); fjson_object_iter_next(&it)) {
        const char *k = fjson_object_iter_peek_name(&it);
        struct fjson_object *v = fjson_object_iter_peek_value(&it);
        size_t kn = strlen(k);
        if (v == NULL || 7 + kn >= KEY_MAX) continue;
        if ((strcmp(k, "vm") == 0 || strcmp(k, "cm") == 0) && fjson_object_get_type(v) == fjson_type_object) {
            put_group(w, res_field, m, k, v, key);
            continue;
        }
        memcpy(key, "ctxlog.", 7);
        memcpy(key + 7, k, kn + 1);
        if (is_per_message(NULL, k))
            put_flat(m, OT_LR_ATTRIBUTES, key, 7 + kn, v, 1);
        else
            put_flat(w, res_field, key, 7 + kn, v, 1);
    }
    fjson_object_put(o);
    return w->err ? w->err : m->err;
}
