/* mmctxenrich_share.c: one immutable $!ctx!cm / $!ctx!host object per VM and change,
 * shared by every message that carries it.
 *
 * A group's content depends only on a few inputs: for $!ctx!cm the cached parts
 * (cmctx_t pointers: a refreshed part is a new one), the status and the level; for
 * $!ctx!host the sampler's snapshot (its seq) and the VM's entry in it. Each worker
 * keeps a direct-mapped memo: inputs -> the group object, built and frozen
 * (common/base/jsonfreeze.h: pre-rendered for rsyslog's templates) on a miss, then attached
 * to each message by reference. An entry holds a reference to every cmctx_t of its
 * key, so a key's pointers cannot be reused while the entry lives.
 *
 * Safety (see docs/mmctxenrich.md, "$!ctx groups are shared and read-only"): nothing
 * in ctxlog changes a group after it is frozen; mmx_share_scan_templates turns sharing
 * off for a group that some template names below $!ctx (rsyslog would then serialize
 * the shared object on its own, which libfastjson does in the object's print buffer).
 *
 * Concurrency: a memo belongs to one worker (mmx_wrkr); the frozen objects are read by
 * any thread; their reference counts are atomic in libfastjson.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "rsconf.h"
#include "template.h"

#include "jsonfreeze.h"
#include "mmctxenrich.h"

#define SHARE_SLOTS 512 /* per worker and group; a power of two */

struct share_ent {
    uintptr_t k[MMX_SHARE_KEY];
    struct fjson_object *obj; /* frozen; one reference */
    cmctx_t *held[3];         /* references keeping the key's pointers unique */
};

struct mmx_share {
    struct share_ent e[SHARE_SLOTS];
};

static struct share_ent *slot(struct mmx_share *m, const uintptr_t k[MMX_SHARE_KEY]) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < MMX_SHARE_KEY; i++) h = (h ^ (uint64_t)k[i]) * 1099511628211ull, h ^= h >> 29;
    return &m->e[h & (SHARE_SLOTS - 1)];
}

static void ent_clear(struct share_ent *e) {
    fjson_object_put(e->obj);
    for (int i = 0; i < 3; i++) cmctx_unref(e->held[i]);
    memset(e, 0, sizeof *e);
}

struct fjson_object *mmx_share_get(struct mmx_share *m, const uintptr_t k[MMX_SHARE_KEY]) {
    if (m == NULL) return NULL;
    struct share_ent *e = slot(m, k);
    if (e->obj == NULL || memcmp(e->k, k, sizeof e->k) != 0) return NULL;
    return fjson_object_get(e->obj);
}

struct fjson_object *mmx_share_put(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY], struct fjson_object *obj,
                                   cmctx_t *const held[3]) {
    if (obj == NULL || ctx_json_freeze(obj) != 0) return obj; /* unshared: the message's own */
    if (*m == NULL && (*m = calloc(1, sizeof **m)) == NULL) return obj;
    struct share_ent *e = slot(*m, k);
    ent_clear(e);
    memcpy(e->k, k, sizeof e->k);
    for (int i = 0; held != NULL && i < 3; i++) e->held[i] = held[i] ? cmctx_ref(held[i]) : NULL;
    e->obj = obj;
    return fjson_object_get(obj);
}

void mmx_share_free(struct mmx_share **m) {
    if (*m == NULL) return;
    for (size_t i = 0; i < SHARE_SLOTS; i++) ent_clear(&(*m)->e[i]);
    free(*m);
    *m = NULL;
}

/* 1 if a JSON property name ("!ctx!host!load1") is the group or below it */
static int names_group(const char *name, const char *group) {
    static const char prefix[] = "!ctx!";
    size_t pl = sizeof prefix - 1, gl = strlen(group);
    if (strncasecmp(name, prefix, pl) != 0 || strncasecmp(name + pl, group, gl) != 0) return 0;
    return name[pl + gl] == '\0' || name[pl + gl] == '!';
}

void mmx_share_scan_templates(rsconf_t *conf, mmx_inst *inst) {
    inst->share_cm = inst->share_host = 1;
    for (struct template *t = conf ? conf->templates.root : NULL; t != NULL; t = t->pNext) {
        for (struct templateEntry *te = t->pEntryRoot; te != NULL; te = te->pNext) {
            if (te->eEntryType != FIELD || te->data.field.msgProp.id != PROP_CEE) continue;
            const char *n = (const char *)te->data.field.msgProp.name;
            if (n == NULL) continue;
            if (inst->share_cm && names_group(n, "cm")) {
                inst->share_cm = 0;
                LogMsg(0, RS_RET_OK, LOG_INFO, "mmctxenrich(%s): template '%s' names $%s: $!ctx!cm is built for "
                       "each message (not shared)", inst->name, t->pszName, n);
            }
            if (inst->share_host && names_group(n, "host")) {
                inst->share_host = 0;
                LogMsg(0, RS_RET_OK, LOG_INFO, "mmctxenrich(%s): template '%s' names $%s: $!ctx!host is built for "
                       "each message (not shared)", inst->name, t->pszName, n);
            }
        }
    }
}
