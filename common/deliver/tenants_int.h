/* tenants_int.h: what tenants.c (the set, sections, one tenant, the file, lookup) and
 * tenants_parse.c (the key locator, messages, typed values, files) share. Internal: use
 * tenants.h. */
#ifndef CTXLOG_TENANTS_INT_H
#define CTXLOG_TENANTS_INT_H

#include "tenants.h"

#include <errno.h>
#include <fcntl.h>
#include <libfastjson/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgfile.h"
#include "ctxlog_common.h"
#include "secretfile.h"

#define MAX_PATH 6            /* depth of a key path: tenants.ID.auth.KEY */
#define MAX_FILE (16u << 20)  /* the largest tenants file read */
#define LOCATOR_DEPTH 64
#define NAME_MAX_SHOWN 64     /* characters of a key or value quoted in a message */
#define PATH_MAX_SHOWN 256    /* characters of a file path quoted in a message */

typedef struct {
    void **v;
    size_t n, cap;
} arena_t;

struct ctx_tenants {
    atomic_int refs;         /* the only mutable field */
    ctx_tenant_t *v;         /* tenants in file order */
    size_t n;
    char **warn;             /* warnings (strings in the arena) */
    size_t nwarn, capwarn;
    arena_t arena;           /* every string and the headers arrays */
};

typedef struct {
    char *key;     /* decoded key (\uXXXX above ASCII kept as written) */
    int parent;    /* index of the key whose value holds this key, -1 at top level */
    int container; /* id of the object holding this key */
    int line;
} keypos_t;

typedef struct {
    keypos_t *v;
    size_t n, cap;
} keyidx_t;

typedef struct {
    const char *name;     /* file name for messages */
    const char *base_dir; /* for relative paths, or NULL */
    keyidx_t ki;
    const char *path[MAX_PATH + 1];
    int depth;
    char *err;
    size_t errlen;
    int rc;               /* first error, 0 while none */
    ctx_tenants_t *set;   /* being built: arena and warnings */
    SSL_CTX *ssl;         /* made on demand to check cipher lists */
    const char *tenant;   /* id of the tenant being parsed */
} pctx_t;

/* tenants.c: the set's arena */
void *tn_arena_alloc(arena_t *a, size_t sz);
char *tn_arena_strndup(arena_t *a, const char *s, size_t n);

/* tenants_fmt.c: "format" and its keys of an https tenant (after url, content_encoding);
 * enc_set: 1 if "content_encoding" was given */
int tn_parse_format(pctx_t *pc, fjson_object *obj, ctx_tenant_t *t, int enc_set);

/* tenants_parse.c */
int tn_check_keys(pctx_t *pc, fjson_object *obj, const char *const *allowed, const char *const *extra,
                      const char *const *wrong_here, const char *why);
int tn_get_bool(pctx_t *pc, fjson_object *obj, const char *key, int *out);
int tn_get_enum(pctx_t *pc, fjson_object *obj, const char *key, const char *const *names, int *out);
int tn_get_file(pctx_t *pc, fjson_object *obj, const char *key, int secret, const char **out);
int tn_get_int(pctx_t *pc, fjson_object *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int tn_get_object(pctx_t *pc, fjson_object *obj, const char *key, fjson_object **out);
int tn_get_raw_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **s,
                          size_t *n);
int tn_get_string(pctx_t *pc, fjson_object *obj, const char *key, size_t maxlen, const char **out);
const char *tn_jtype(fjson_object *v);
long tn_keyidx_dup(const keyidx_t *ki, size_t *first);
void tn_keyidx_free(keyidx_t *ki);
int tn_keyidx_line(const keyidx_t *ki, const char *const *path, int n);
int tn_keyidx_scan(keyidx_t *ki, const char *s, size_t len);
fjson_object *tn_member(fjson_object *obj, const char *key);
int tn_nomem(pctx_t *pc);
int tn_perr(pctx_t *pc, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tn_pop(pctx_t *pc);
void tn_push(pctx_t *pc, const char *key);
int tn_pwarn(pctx_t *pc, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tn_shown(char *out, size_t outlen, const char *s);

#endif
