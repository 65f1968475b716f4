/* profiles_load.c: building a profiles store from its JSON document, with every
 * check and one-line error message of docs/profiles.md.
 *
 * libfastjson (strict mode) parses; jsonpos.c walks the same text again for line
 * numbers (libfastjson keeps none) and duplicate keys (libfastjson keeps the last).
 * Validation runs in file order; then the lookup tables are filled in file order,
 * which is where duplicates across VMs are found (the message names both entries).
 *
 * Concurrency: loading touches only the new store and the caller's buffers, so any
 * number of loads may run at once; the store is published only when complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libfastjson/json.h>

#include "cfgfile.h"
#include "ctxlog_common.h"
#include "jsonpos.h"
#include "profiles.h"
#include "profiles_int.h"
#include "profiles_ld.h"

#define NAME_MAX_BYTES 255
#define PID_MAX_VALUE 4194304L

static size_t locate(const struct ld *l, const struct jpath *jp) {
    struct ctx_jmember m;
    size_t off = l->root, val;
    if (jp->top == NULL || !ctx_jpos_find_member(l->b, l->n, l->root, jp->top, &m)) return off;
    off = m.key;
    val = m.val;
    if (jp->vm >= 0) {
        if (l->vm_off == NULL || val >= l->n || l->b[val] != '[') return off;
        off = val = l->vm_off[jp->vm];
    }
    if (jp->key == NULL || !ctx_jpos_find_member(l->b, l->n, val, jp->key, &m)) return off;
    off = m.key;
    if (jp->elem >= 0 && ctx_jpos_find_elem(l->b, l->n, m.val, jp->elem, &val)) off = val;
    return off;
}

static void path_text(const struct jpath *jp, char *buf, size_t bl) {
    int o = snprintf(buf, bl, "%s", jp->top ? jp->top : "top level");
    if (jp->vm >= 0) o += snprintf(buf + o, bl - (size_t)o, "[%ld]", jp->vm);
    if (jp->key) o += snprintf(buf + o, bl - (size_t)o, ".%s", jp->key);
    if (jp->elem >= 0) snprintf(buf + o, bl - (size_t)o, "[%ld]", jp->elem);
}

static int ld_vfail(struct ld *l, const struct jpath *jp, size_t off, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int ld_vfail(struct ld *l, const struct jpath *jp, size_t off, const char *fmt, va_list ap) {
    char msg[384], path[96];
    vsnprintf(msg, sizeof msg, fmt, ap);
    path_text(jp, path, sizeof path);
    if (l->err != NULL && l->errlen > 0)
        snprintf(l->err, l->errlen, "%s: line %u: %s: %s", l->name, ctx_jpos_line(l->b, l->n, off), path, msg);
    return CTX_EPARSE;
}

/* "<name>: line N: <path>: <message>", N being the line of the place jp names; returns CTX_EPARSE. */
int ctx_pld_fail(struct ld *l, const struct jpath *jp, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = ld_vfail(l, jp, locate(l, jp), fmt, ap);
    va_end(ap);
    return r;
}

/* The same with the line of text offset off. */
static int ld_fail_at(struct ld *l, const struct jpath *jp, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ld_fail_at(struct ld *l, const struct jpath *jp, size_t off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = ld_vfail(l, jp, off, fmt, ap);
    va_end(ap);
    return r;
}

int ctx_pld_nomem(struct ld *l) {
    if (l->err != NULL && l->errlen > 0) snprintf(l->err, l->errlen, "%s: out of memory", l->name);
    return CTX_ENOMEM;
}
/* Describes a JSON value for "got ...". */
static void describe(struct json_object *v, char *buf, size_t bl) {
    switch (json_object_get_type(v)) {
    case json_type_string:
        ctx_prof_quote(buf, bl, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_object:
        snprintf(buf, bl, "an object");
        break;
    case json_type_array:
        snprintf(buf, bl, "an array");
        break;
    case json_type_null:
        snprintf(buf, bl, "null");
        break;
    default:
        snprintf(buf, bl, "%.40s", json_object_to_json_string(v));
        break;
    }
}

/* ---- keys: unknown, duplicate ------------------------------------------------------ */

/* Fails if an object (at offset obj in the text, jo parsed) has a key twice. */
static int check_dup_keys(struct ld *l, const struct jpath *jp, size_t obj, struct json_object *jo) {
    struct ctx_jmember m, *all;
    size_t pos = obj + 1, count = 0, k = 0;
    while (ctx_jpos_member_next(l->b, l->n, &pos, &m)) count++;
    if (count <= (size_t)json_object_object_length(jo)) return 0;
    all = malloc(count * sizeof *all);
    if (all == NULL) return ctx_pld_nomem(l);
    pos = obj + 1;
    while (k < count && ctx_jpos_member_next(l->b, l->n, &pos, &all[k])) k++;
    for (size_t i = 1; i < k; i++) {
        for (size_t j = 0; j < i; j++) {
            size_t len = all[i].key_end - all[i].key;
            if (len != all[j].key_end - all[j].key || memcmp(l->b + all[i].key + 1, l->b + all[j].key + 1, len - 2))
                continue;
            char q[160];
            ctx_prof_quote(q, sizeof q, l->b + all[i].key + 1, len - 2);
            unsigned l1 = ctx_jpos_line(l->b, l->n, all[j].key), l2 = ctx_jpos_line(l->b, l->n, all[i].key);
            size_t at = all[i].key;
            free(all);
            return ld_fail_at(l, jp, at, "key %s appears twice (lines %u and %u)", q, l1, l2);
        }
    }
    free(all);
    return 0;
}

/* Fails on a key of o (at offset obj in the text) that is not in known and does not start with '_'. */
static int check_keys(struct ld *l, const struct jpath *jp, size_t obj, struct json_object *o,
                      const char *const *known, const char *list) {
    struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);
        int ok = key[0] == '_';
        for (size_t i = 0; !ok && known[i] != NULL; i++) ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            char q[160];
            struct ctx_jmember m;
            ctx_prof_quote(q, sizeof q, key, strlen(key));
            size_t at = ctx_jpos_find_member(l->b, l->n, obj, key, &m) ? m.key : locate(l, jp);
            return ld_fail_at(l, jp, at, "unknown key %s (expected %s; keys starting with \"_\" are ignored)", q,
                              list);
        }
    }
    return 0;
}

/* ---- field parsers ------------------------------------------------------------------- */

/* Gets an optional string member: *s NULL if absent. Fails on another type or a NUL. */
static int get_str(struct ld *l, struct json_object *o, const struct jpath *jp, const char **s, size_t *len) {
    struct json_object *v;
    char got[160];
    *s = NULL;
    *len = 0;
    if (!json_object_object_get_ex(o, jp->key, &v)) return 0;
    if (!json_object_is_type(v, json_type_string)) {
        describe(v, got, sizeof got);
        return ctx_pld_fail(l, jp, "expected a string, got %s", got);
    }
    *s = json_object_get_string(v);
    *len = (size_t)json_object_get_string_len(v);
    if (strlen(*s) != *len) return ctx_pld_fail(l, jp, "contains a NUL character (\\u0000)");
    return 0;
}

static int bad_value(struct ld *l, const struct jpath *jp, const char *expected, const char *s, size_t n) {
    char q[160];
    ctx_prof_quote(q, sizeof q, s, n);
    return ctx_pld_fail(l, jp, "expected %s, got %s", expected, q);
}

#define TEXT_EXPECTED "1 to 255 bytes of UTF-8 text without control characters"
#define TENANT_EXPECTED "1 to 64 characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\")"

/* A text field (name, user): copies into the arena. */
static int get_text(struct ld *l, struct json_object *o, const struct jpath *jp, const char **out) {
    const char *s;
    size_t n;
    int r = get_str(l, o, jp, &s, &n);
    if (r < 0 || s == NULL) return r;
    if (n == 0 || n > NAME_MAX_BYTES || !ctx_prof_text_ok((const unsigned char *)s, n))
        return bad_value(l, jp, TEXT_EXPECTED, s, n);
    *out = ctx_prof_arena_strndup(&l->p->arena, s, n);
    return *out ? 0 : ctx_pld_nomem(l);
}

static int get_tenant(struct ld *l, struct json_object *o, const struct jpath *jp, const char **out) {
    const char *s;
    size_t n;
    int r = get_str(l, o, jp, &s, &n);
    if (r < 0 || s == NULL) return r;
    if (!ctx_tenant_id_valid(s)) return bad_value(l, jp, TENANT_EXPECTED, s, n);
    /* a VM of these would share a destination with messages of no (known) VM */
    if (strcmp(s, "default") == 0 || strcmp(s, "unknown") == 0)
        return ctx_pld_fail(l, jp, "\"%s\" is reserved (%s), expected another tenant id", s,
                       s[0] == 'd' ? "omtenant's destination for tenants it has no entry for"
                                   : "the tenant of messages no profile claims");
    *out = ctx_prof_arena_strndup(&l->p->arena, s, n);
    return *out ? 0 : ctx_pld_nomem(l);
}

static int get_uuid(struct ld *l, struct json_object *o, const struct jpath *jp, const char **out) {
    const char *s;
    size_t n;
    char norm[37];
    int r = get_str(l, o, jp, &s, &n);
    if (r < 0 || s == NULL) return r;
    if (!ctx_prof_uuid_norm(s, n, norm))
        return bad_value(l, jp, "a UUID like \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\"", s, n);
    *out = ctx_prof_arena_strndup(&l->p->arena, norm, 36);
    return *out ? 0 : ctx_pld_nomem(l);
}

static int get_cgroup(struct ld *l, struct json_object *o, const struct jpath *jp, const char **out) {
    const char *s;
    size_t n;
    int r = get_str(l, o, jp, &s, &n);
    if (r < 0 || s == NULL) return r;
    if (!ctx_prof_cgroup_ok(s, n))
        return bad_value(l, jp, "an absolute path (starting with \"/\", at most 4095 bytes, no \"..\" component, "
                                "no control characters)", s, n);
    *out = ctx_prof_arena_strndup(&l->p->arena, s, n);
    return *out ? 0 : ctx_pld_nomem(l);
}

static int get_pid(struct ld *l, struct json_object *o, const struct jpath *jp, long *out) {
    struct json_object *v;
    char got[160];
    if (!json_object_object_get_ex(o, jp->key, &v)) return 0;
    int64_t x = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    if (x < 1 || x > PID_MAX_VALUE) {
        describe(v, got, sizeof got);
        return ctx_pld_fail(l, jp, "expected an integer from 1 to %ld, got %s", PID_MAX_VALUE, got);
    }
    *out = (long)x;
    return 0;
}

/* ---- address lists: a string or an array of strings ------------------------------------ */

typedef int (*item_fn)(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst);

static int item_mac(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst) {
    ctx_mac_t *m = dst;
    char q[160];
    if (!ctx_prof_mac_parse(s, n, m->addr)) return bad_value(l, jp, "\"xx:xx:xx:xx:xx:xx\"", s, n);
    ctx_prof_quote(q, sizeof q, s, n);
    if (m->addr[0] & 1) return ctx_pld_fail(l, jp, "%s is a multicast address, not a VM's source MAC", q);
    static const uint8_t zero[6];
    if (memcmp(m->addr, zero, 6) == 0) return ctx_pld_fail(l, jp, "%s is not a valid source MAC", q);
    snprintf(m->text, sizeof m->text, "%02x:%02x:%02x:%02x:%02x:%02x", m->addr[0], m->addr[1], m->addr[2], m->addr[3],
             m->addr[4], m->addr[5]);
    return 0;
}

static int item_ip(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst, int family) {
    ctx_ip_t *ip = dst;
    char tmp[64], q[160];
    int v4 = family == AF_INET;
    const char *expected = v4 ? "an IPv4 address like \"192.0.2.10\"" : "an IPv6 address like \"2001:db8::10\"";
    if (n >= sizeof tmp) return bad_value(l, jp, expected, s, n);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    uint8_t v4b[4];
    if (inet_pton(family, tmp, v4 ? (void *)v4b : (void *)ip->addr) != 1) return bad_value(l, jp, expected, s, n);
    if (v4) ctx_ip_map_v4(v4b, ip->addr);
    ip->family = (uint8_t)family;
    ctx_prof_quote(q, sizeof q, s, n);
    if (!v4 && memcmp(ip->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
        return ctx_pld_fail(l, jp, "%s is an IPv4-mapped address: list it under \"ipv4\"", q);
    if (!ctx_prof_ip_unicast(ip)) return ctx_pld_fail(l, jp, "%s is not a unicast address", q);
    inet_ntop(family, v4 ? (const void *)v4b : (const void *)ip->addr, ip->text, sizeof ip->text);
    return 0;
}

static int item_ipv4(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst) {
    return item_ip(l, jp, s, n, dst, AF_INET);
}

static int item_ipv6(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst) {
    return item_ip(l, jp, s, n, dst, AF_INET6);
}

static int item_vnic(struct ld *l, const struct jpath *jp, const char *s, size_t n, void *dst) {
    char reason[160], q[160];
    if (ctx_ifglob_check(s, reason, sizeof reason) < 0) {
        ctx_prof_quote(q, sizeof q, s, n);
        return ctx_pld_fail(l, jp, "%s: %s", q, reason);
    }
    *(const char **)dst = ctx_prof_arena_strndup(&l->p->arena, s, n);
    return *(const char **)dst ? 0 : ctx_pld_nomem(l);
}

/* Reads jp->key of o as a string or array of strings into count items of isize bytes
 * at *items (arena); sets arr_bit in l->vm_arr[vm] if it was an array. */
static int get_list(struct ld *l, struct json_object *o, struct jpath jp, item_fn fn, size_t isize, void **items,
                    uint32_t *count, uint8_t arr_bit) {
    struct json_object *v;
    char got[160];
    if (!json_object_object_get_ex(o, jp.key, &v)) return 0;
    int is_arr = json_object_is_type(v, json_type_array);
    size_t n = is_arr ? (size_t)json_object_array_length(v) : 1;
    if (!is_arr && !json_object_is_type(v, json_type_string)) {
        describe(v, got, sizeof got);
        return ctx_pld_fail(l, &jp, "expected a string or an array of strings, got %s", got);
    }
    if (n > CTX_PROFILES_MAX_ADDRS) return ctx_pld_fail(l, &jp, "more than %d entries", CTX_PROFILES_MAX_ADDRS);
    if (is_arr) l->vm_arr[jp.vm] |= arr_bit;
    char *arr = n ? ctx_prof_arena_alloc(&l->p->arena, n * isize) : NULL;
    if (n && arr == NULL) return ctx_pld_nomem(l);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = is_arr ? json_object_array_get_idx(v, (int)i) : v;
        const char *s;
        size_t len;
        jp.elem = is_arr ? (long)i : -1;
        if (!json_object_is_type(e, json_type_string)) {
            describe(e, got, sizeof got);
            return ctx_pld_fail(l, &jp, "expected a string, got %s", got);
        }
        s = json_object_get_string(e);
        len = (size_t)json_object_get_string_len(e);
        if (strlen(s) != len) return ctx_pld_fail(l, &jp, "contains a NUL character (\\u0000)");
        int r = fn(l, &jp, s, len, arr + i * isize);
        if (r < 0) return r;
    }
    *items = arr;
    *count = (uint32_t)n;
    return 0;
}

/* ---- one VM entry ------------------------------------------------------------------------- */

static const char *const vm_keys[] = {"name", "uuid", "tenant", "user", "ipv4", "ipv6", "mac", "vnic", "cgroup", "pid",
                                      NULL};
#define VM_KEY_LIST "name, uuid, tenant, user, ipv4, ipv6, mac, vnic, cgroup, pid"

static int vm_identity(struct ld *l, struct json_object *o, uint32_t i, ctx_profile_t *vm) {
    struct jpath jp = {"vms", (long)i, NULL, -1};
    int r;
    jp.key = "name";
    if ((r = get_text(l, o, &jp, &vm->name)) < 0) return r;
    jp.key = "uuid";
    if ((r = get_uuid(l, o, &jp, &vm->uuid)) < 0) return r;
    jp.key = "tenant";
    if ((r = get_tenant(l, o, &jp, &vm->tenant)) < 0) return r;
    jp.key = "user";
    if ((r = get_text(l, o, &jp, &vm->user)) < 0) return r;
    jp.key = "cgroup";
    if ((r = get_cgroup(l, o, &jp, &vm->cgroup)) < 0) return r;
    jp.key = "pid";
    if ((r = get_pid(l, o, &jp, &vm->pid)) < 0) return r;
    jp.key = NULL;
    if (vm->name == NULL) return ctx_pld_fail(l, &jp, "missing key \"name\"");
    if (vm->tenant == NULL) vm->tenant = l->def_tenant;
    if (vm->tenant == NULL) return ctx_pld_fail(l, &jp, "missing key \"tenant\" (and no \"tenant\" in \"defaults\")");
    if (vm->user == NULL) vm->user = l->def_user;
    return 0;
}

static int vm_addresses(struct ld *l, struct json_object *o, uint32_t i, ctx_profile_t *vm) {
    struct jpath jp = {"vms", (long)i, NULL, -1};
    void *v4 = NULL, *v6 = NULL, *macs = NULL, *vnics = NULL;
    uint32_t n4 = 0, n6 = 0;
    int r;
    jp.key = "ipv4";
    if ((r = get_list(l, o, jp, item_ipv4, sizeof(ctx_ip_t), &v4, &n4, ARR_IPV4)) < 0) return r;
    jp.key = "ipv6";
    if ((r = get_list(l, o, jp, item_ipv6, sizeof(ctx_ip_t), &v6, &n6, ARR_IPV6)) < 0) return r;
    jp.key = "mac";
    if ((r = get_list(l, o, jp, item_mac, sizeof(ctx_mac_t), &macs, &vm->n_macs, ARR_MAC)) < 0) return r;
    jp.key = "vnic";
    if ((r = get_list(l, o, jp, item_vnic, sizeof(char *), &vnics, &vm->n_vnics, ARR_VNIC)) < 0) return r;
    vm->macs = macs;
    vm->vnics = (const char *const *)vnics;
    if (n4 > 0 && n6 > 0) { /* one array: ipv4 entries, then ipv6 entries */
        ctx_ip_t *all = ctx_prof_arena_alloc(&l->p->arena, (n4 + n6) * sizeof *all);
        if (all == NULL) return ctx_pld_nomem(l);
        memcpy(all, v4, n4 * sizeof *all);
        memcpy(all + n4, v6, n6 * sizeof *all);
        v4 = all;
    }
    vm->ips = n4 ? v4 : v6;
    vm->n_ips = n4 + n6;
    return 0;
}

static int vm_parse(struct ld *l, struct json_object *o, uint32_t i) {
    struct jpath jp = {"vms", (long)i, NULL, -1};
    ctx_profile_t *vm = &l->p->vms[i];
    char got[160];
    int r;
    vm->index = i;
    if (!json_object_is_type(o, json_type_object)) {
        describe(o, got, sizeof got);
        return ctx_pld_fail(l, &jp, "expected an object, got %s", got);
    }
    if ((r = check_dup_keys(l, &jp, l->vm_off[i], o)) < 0) return r;
    if ((r = check_keys(l, &jp, l->vm_off[i], o, vm_keys, VM_KEY_LIST)) < 0) return r;
    if ((r = vm_identity(l, o, i, vm)) < 0) return r;
    return vm_addresses(l, o, i, vm);
}

/* ---- the document -------------------------------------------------------------------------- */

static const char *const top_keys[] = {"version", "defaults", "vms", NULL};
static const char *const def_keys[] = {"tenant", "user", NULL};

static int parse_defaults(struct ld *l, struct json_object *root) {
    struct jpath jp = {"defaults", -1, NULL, -1};
    struct json_object *d;
    struct ctx_jmember m;
    char got[160];
    int r;
    if (!json_object_object_get_ex(root, "defaults", &d)) return 0;
    if (!json_object_is_type(d, json_type_object)) {
        describe(d, got, sizeof got);
        return ctx_pld_fail(l, &jp, "expected an object, got %s", got);
    }
    if (!ctx_jpos_find_member(l->b, l->n, l->root, "defaults", &m)) m.val = l->root;
    if ((r = check_dup_keys(l, &jp, m.val, d)) < 0) return r;
    if ((r = check_keys(l, &jp, m.val, d, def_keys, "tenant, user")) < 0) return r;
    jp.key = "tenant";
    if ((r = get_tenant(l, d, &jp, &l->def_tenant)) < 0) return r;
    jp.key = "user";
    return get_text(l, d, &jp, &l->def_user);
}

static int parse_version(struct ld *l, struct json_object *root) {
    struct jpath jp = {"version", -1, NULL, -1};
    struct json_object *v;
    char got[160];
    if (!json_object_object_get_ex(root, "version", &v)) return 0;
    if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 1) return 0;
    describe(v, got, sizeof got);
    return ctx_pld_fail(l, &jp, "expected 1, got %s", got);
}

/* Records the text offset and line of every vms[] element (one pass over the text). */
static int index_vms(struct ld *l, size_t arr, size_t count) {
    size_t pos = arr + 1, k = 0, val, counted = 0;
    unsigned line = 1;
    l->vm_off = calloc(count ? count : 1, sizeof *l->vm_off);
    l->vm_arr = calloc(count ? count : 1, 1);
    if (l->vm_off == NULL || l->vm_arr == NULL) return ctx_pld_nomem(l);
    while (k < count && ctx_jpos_elem_next(l->b, l->n, &pos, &val)) {
        for (; counted < val; counted++) line += (l->b[counted] == '\n');
        l->p->vms[k].line = line;
        l->vm_off[k++] = val;
    }
    return 0;
}

static int parse_vms(struct ld *l, struct json_object *root) {
    struct jpath jp = {"vms", -1, NULL, -1};
    struct json_object *v;
    struct ctx_jmember m;
    char got[160];
    int r;
    if (!json_object_object_get_ex(root, "vms", &v)) {
        jp.top = NULL;
        return ctx_pld_fail(l, &jp, "missing key \"vms\" (an array of VM objects)");
    }
    if (!json_object_is_type(v, json_type_array)) {
        describe(v, got, sizeof got);
        return ctx_pld_fail(l, &jp, "expected an array of VM objects, got %s", got);
    }
    size_t n = (size_t)json_object_array_length(v);
    if (n > CTX_PROFILES_MAX_VMS) return ctx_pld_fail(l, &jp, "more than %d entries", CTX_PROFILES_MAX_VMS);
    if (!ctx_jpos_find_member(l->b, l->n, l->root, "vms", &m)) return ctx_pld_fail(l, &jp, "cannot find the array in the text");
    l->p->n = (uint32_t)n;
    l->p->vms = ctx_prof_arena_alloc(&l->p->arena, (n ? n : 1) * sizeof *l->p->vms);
    if (l->p->vms == NULL) return ctx_pld_nomem(l);
    if ((r = index_vms(l, m.val, n)) < 0) return r;
    for (size_t i = 0; i < n; i++)
        if ((r = vm_parse(l, json_object_array_get_idx(v, (int)i), (uint32_t)i)) < 0) return r;
    return ctx_pld_build_tables(l);
}

static int parse_root(struct ld *l, struct json_object *root) {
    struct jpath jp = {NULL, -1, NULL, -1};
    char got[160];
    int r;
    if (!json_object_is_type(root, json_type_object)) {
        describe(root, got, sizeof got);
        return ctx_pld_fail(l, &jp, "expected an object, got %s", got);
    }
    if ((r = check_dup_keys(l, &jp, l->root, root)) < 0) return r;
    if ((r = check_keys(l, &jp, l->root, root, top_keys, "version, defaults, vms")) < 0) return r;
    if ((r = parse_version(l, root)) < 0) return r;
    if ((r = parse_defaults(l, root)) < 0) return r;
    return parse_vms(l, root);
}

/* ---- syntax ------------------------------------------------------------------------------ */

static int syntax_fail(struct ld *l, size_t off, size_t bom, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int syntax_fail(struct ld *l, size_t off, size_t bom, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    unsigned line = ctx_jpos_line(l->b, l->n, off);
    size_t col = ctx_jpos_column(l->b, l->n, off) + (line == 1 ? bom : 0);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->err != NULL && l->errlen > 0) snprintf(l->err, l->errlen, "%s: line %u, column %zu: %s", l->name, line,
                                                  col, msg);
    return CTX_EPARSE;
}

/* 1 if b[0..len) is one complete JSON value followed only by blanks. */
static int complete_value(const char *b, size_t len) {
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL) return 0;
    fjson_tokener_set_flags(tok, FJSON_TOKENER_STRICT);
    struct json_object *o = json_tokener_parse_ex(tok, b, (int)len);
    json_tokener_free(tok);
    json_object_put(o);
    return o != NULL;
}

/* Parses l->b strictly; on failure fills err with the line and column. */
static int parse_json(struct ld *l, size_t bom, struct json_object **out) {
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL) return ctx_pld_nomem(l);
    fjson_tokener_set_flags(tok, FJSON_TOKENER_STRICT);
    *out = json_tokener_parse_ex(tok, l->b, (int)l->n);
    enum fjson_tokener_error e = fjson_tokener_get_error(tok);
    size_t off = tok->char_offset > 0 ? (size_t)tok->char_offset : 0;
    json_tokener_free(tok);
    if (*out != NULL) return 0;
    if (e == fjson_tokener_continue)
        return syntax_fail(l, l->n, bom, "JSON syntax error: unexpected end of file (an object, array or string is "
                                         "not closed)");
    if (off > 0 && off <= l->n && complete_value(l->b, off))
        return syntax_fail(l, off, bom, "unexpected data after the end of the JSON document");
    return syntax_fail(l, off, bom, "JSON syntax error: %s", json_tokener_error_desc(e));
}

static int load_checked(struct ld *l, size_t bom) {
    struct json_object *root = NULL;
    const char *nul = memchr(l->b, '\0', l->n);
    if (nul != NULL) return syntax_fail(l, (size_t)(nul - l->b), bom, "NUL byte in the file");
    if (ctx_jpos_ws(l->b, l->n, 0) == l->n) {
        if (l->err && l->errlen) snprintf(l->err, l->errlen, "%s: line 1: the file is empty (expected a JSON object "
                                                             "with a \"vms\" array)", l->name);
        return CTX_EPARSE;
    }
    int r = parse_json(l, bom, &root);
    if (r < 0) return r;
    l->root = ctx_jpos_ws(l->b, l->n, 0);
    r = parse_root(l, root);
    json_object_put(root);
    return r;
}

int ctx_profiles_load_buffer(const char *buf, size_t len, const char *name, ctx_profiles_t **out, char *err,
                             size_t errlen) {
    struct ld l = {.b = buf, .n = len, .name = name ? name : "profiles", .err = err, .errlen = errlen};
    size_t bom = 0;
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || (buf == NULL && len > 0)) return CTX_EINVAL;
    *out = NULL;
    if (buf == NULL) l.b = "";
    if (len > INT_MAX) return syntax_fail(&l, 0, 0, "document larger than %d bytes", INT_MAX);
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        bom = 3;
        l.b += 3;
        l.n -= 3;
    }
    l.p = calloc(1, sizeof *l.p);
    if (l.p == NULL) return ctx_pld_nomem(&l);
    atomic_init(&l.p->refs, 1);
    l.p->source = ctx_prof_arena_strndup(&l.p->arena, l.name, strlen(l.name));
    int r = l.p->source ? load_checked(&l, bom) : ctx_pld_nomem(&l);
    free(l.vm_off);
    free(l.vm_arr);
    if (r < 0) {
        ctx_profiles_unref(l.p);
        return r;
    }
    *out = l.p;
    return 0;
}


static int parse_file(const char *buf, size_t len, const char *name, void *out, char *err, size_t errlen) {
    return ctx_profiles_load_buffer(buf, len, name, out, err, errlen);
}

int ctx_profiles_load_file(const char *path, ctx_profiles_t **out, char *err, size_t errlen) {
    if (out == NULL || path == NULL) return CTX_EINVAL;
    *out = NULL;
    return ctx_cfg_load(path, "profiles file", CTX_PROFILES_MAX_FILE, parse_file, out, err, errlen);
}

