/* fieldmap.h: compute-manager field mapping (JSON pointer -> context field, with type).
 *
 * A mapping file (JSON, format in docs/fieldmap.md) says, for each kind of compute-manager reply,
 * where each $!ctx!cm field is found (an RFC 6901 JSON pointer) and which type it has. Applying a
 * section to a parsed reply yields a new, small JSON object {field: value, ...} plus a list of
 * per-field problems (missing, null, wrong type, out of range) that the module counts. Replies of
 * any shape are accepted: a wrong type is a problem, never a crash.
 *
 * Sections (each optional, at least one present):
 *   CTX_FM_VM     per-VM reply, fetched once per VM (static fields: guest_os, ...)
 *   CTX_FM_BULK   one reply listing many VMs (static fields of all VMs at start-up)
 *   CTX_FM_STATS  per-VM reply, refreshed every TTL (avg_vm_cpu_pct, ...)
 *   CTX_FM_HOST   per-host reply, refreshed every TTL (avg_host_cpu_pct, host_ip, ...)
 *   CTX_FM_HOSTID per-host reply, fetched once per static TTL: this host's ids at the compute
 *                 manager (hypervisor id, host moid), for URL placeholders {hostid.<field>}
 *
 * Besides the sections, a file may name request headers ("headers": {"Name": "value"}) sent
 * with every request to that compute manager (e.g. Nova's OpenStack-API-Version).
 *
 * Threads: a ctx_fieldmap is immutable after load and may be used from any thread at once. The
 * apply functions only read the reply (they never call libfastjson functions that cache text in
 * it), so one reply may be read by other threads meanwhile.
 */
#ifndef CTXLOG_FIELDMAP_H
#define CTXLOG_FIELDMAP_H

#include <stddef.h>
#include <stdint.h>

struct fjson_object;

typedef struct ctx_fieldmap ctx_fieldmap; /* opaque, immutable once loaded */

typedef enum {
    CTX_FM_VM = 0,
    CTX_FM_BULK = 1,
    CTX_FM_STATS = 2,
    CTX_FM_HOST = 3,
    CTX_FM_HOSTID = 4,
    CTX_FM_NSECTIONS = 5
} ctx_fm_section;

typedef enum { CTX_FM_STRING = 0, CTX_FM_NUMBER = 1, CTX_FM_INTEGER = 2, CTX_FM_BOOL = 3 } ctx_fm_type;

/* What the bulk section's key identifies a VM by. */
typedef enum { CTX_FM_KEY_UUID = 0, CTX_FM_KEY_NAME = 1 } ctx_fm_key_kind;

typedef enum {
    CTX_FM_MISSING = 0,    /* the pointer (or a "per" / "array" pointer) does not resolve */
    CTX_FM_NULL = 1,       /* it resolves to JSON null */
    CTX_FM_WRONG_TYPE = 2, /* the value cannot be converted to the field's type */
    CTX_FM_RANGE = 3,      /* converted value out of range: non-finite, too large, division by 0,
                            * string longer than CTX_FM_MAX_STRING */
    CTX_FM_NKINDS = 4
} ctx_fm_problem_kind;

#define CTX_FM_MAX_FIELDS 64      /* fields per section */
#define CTX_FM_MAX_STRING 4096    /* bytes of a mapped string value */
#define CTX_FM_MAX_KEY 255        /* bytes of a bulk item key (longer: item skipped) */
#define CTX_FM_MAX_FILE (1 << 20) /* bytes of a mapping file */

typedef struct ctx_fm_problem {
    uint16_t field; /* index of the field in its section (ctx_fieldmap_field_name) */
    uint8_t kind;   /* ctx_fm_problem_kind */
    uint8_t got;    /* libfastjson type found (fjson_type_*), 0 (null) when missing */
} ctx_fm_problem;

/* Caller-allocated (e.g. on the stack): filled by the apply functions, no allocation. */
typedef struct ctx_fm_problems {
    size_t n;                            /* entries in p */
    ctx_fm_problem p[CTX_FM_MAX_FIELDS]; /* in field order */
    unsigned count[CTX_FM_NKINDS];       /* n split by kind */
} ctx_fm_problems;

/* Load and validate a mapping file. On success *out is new and 0 is returned. On error *out is
 * NULL, err holds ONE line, "<path>: <key>: expected <what>, got <value>" (key is a JSON pointer
 * into the mapping file, e.g. /stats/fields/avg_vm_cpu_pct/type), "<path>:<line>: expected valid
 * JSON (<reason>)" or "<path>: cannot read: <strerror>" (common/base/cfgfile.h), and CTX_EPARSE / CTX_EIO / CTX_ENOMEM is
 * returned. Thread-safe. */
int ctx_fieldmap_load(const char *path, ctx_fieldmap **out, char *err, size_t errlen);

/* The same from memory (text need not be NUL-terminated; name, borrowed, is used in errors). */
int ctx_fieldmap_parse(const char *text, size_t len, const char *name, ctx_fieldmap **out, char *err, size_t errlen);

void ctx_fieldmap_free(ctx_fieldmap *m);

/* 1 if the mapping has section s, else 0. */
int ctx_fieldmap_has(const ctx_fieldmap *m, ctx_fm_section s);

/* The section's optional "path" hint (e.g. "/servers/{uuid}/diagnostics"), borrowed; NULL if
 * absent. Informational: the module's URL parameters decide. */
const char *ctx_fieldmap_path(const ctx_fieldmap *m, ctx_fm_section s);

/* The section's name in the file ("vm", "bulk", "stats", "host", "hostid"); NULL if s is bad. */
const char *ctx_fieldmap_section_name(ctx_fm_section s);
/* The section named by the first len bytes of name; -1 if none. */
int ctx_fieldmap_section_by_name(const char *name, size_t len);
/* Index of the field named by the first len bytes of name in section s; -1 if none. */
int ctx_fieldmap_field_index(const ctx_fieldmap *m, ctx_fm_section s, const char *name, size_t len);

/* The file's request headers, "Name: value" (borrowed), in file order. */
size_t ctx_fieldmap_nheaders(const ctx_fieldmap *m);
const char *const *ctx_fieldmap_headers(const ctx_fieldmap *m);

/* Fields of a section, in file order: count, name (borrowed) and type. */
size_t ctx_fieldmap_nfields(const ctx_fieldmap *m, ctx_fm_section s);
const char *ctx_fieldmap_field_name(const ctx_fieldmap *m, ctx_fm_section s, size_t i);
int ctx_fieldmap_field_type(const ctx_fieldmap *m, ctx_fm_section s, size_t i); /* ctx_fm_type or -1 */

/* Apply section s (not CTX_FM_BULK) to reply (borrowed, may be NULL = every field missing).
 * *out receives a new object (caller owns it: fjson_object_put, or hand it to msgAddJSON) with one
 * member per field that converted; probs (may be NULL) receives the rest. Returns the number of
 * fields set (>= 0), CTX_ENOENT if the mapping has no such section, CTX_EINVAL for bad
 * arguments, CTX_ENOMEM. *out is NULL on any error. */
int ctx_fieldmap_apply(const ctx_fieldmap *m, ctx_fm_section s, struct fjson_object *reply, struct fjson_object **out,
                       ctx_fm_problems *probs);

/* Called once per VM of a bulk reply. key: the VM's uuid (lower-cased) or name, borrowed for the
 * call. fields: new object, ownership passes to the callback. probs: borrowed for the call.
 * Return 0 to go on, non-zero to stop. */
typedef int (*ctx_fm_bulk_cb)(void *ud, const char *key, struct fjson_object *fields, const ctx_fm_problems *probs);

/* Apply the bulk section: resolve "items" (an array, or an object whose members are the VMs), then
 * for each item read its key and map the fields relative to the item. Items without a usable key
 * (missing, not a string or an integer, empty, longer than CTX_FM_MAX_KEY) are skipped and counted in *nskipped (may be
 * NULL). Returns the number of items passed to cb (>= 0); CTX_ENOENT if there is no bulk section or the items pointer
 * does not resolve; CTX_EINVAL if it resolves to neither an array nor an object; CTX_ENOMEM. */
int ctx_fieldmap_apply_bulk(const ctx_fieldmap *m, struct fjson_object *reply, ctx_fm_bulk_cb cb, void *ud,
                            size_t *nskipped);

/* CTX_FM_KEY_UUID or CTX_FM_KEY_NAME; -1 without a bulk section. */
int ctx_fieldmap_bulk_key_kind(const ctx_fieldmap *m);

/* One line describing a problem for the log, e.g.
 * "avg_vm_cpu_pct (/cpu_details/0/utilisation): wrong type (expected number, got object)".
 * Returns the length written (truncated to buflen - 1), or CTX_EINVAL. */
int ctx_fieldmap_problem_str(const ctx_fieldmap *m, ctx_fm_section s, const ctx_fm_problem *p, char *buf,
                             size_t buflen);

/* "missing", "null", "wrong type", "out of range"; "?" for an unknown kind. */
const char *ctx_fm_problem_name(int kind);

/* Resolve an RFC 6901 pointer (with ~0 / ~1 escapes; "" is the whole document) in root. On
 * success *out is the value (borrowed from root; NULL for JSON null) and 0 is returned;
 * CTX_ENOENT if it does not resolve; CTX_EINVAL if ptr is not a valid pointer. */
int ctx_json_pointer_get(struct fjson_object *root, const char *ptr, struct fjson_object **out);

#endif
