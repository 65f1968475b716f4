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

#include <json.h>

#include "rsconf.h"
#include "template.h"

#include "jsonfreeze.h"
#include "tplscan.h"
#include "mmctxenrich.h"

#define SHARE_SLOTS 512 /* per worker and group; a power of two */

struct share_ent {
    uintptr_t k[MMX_SHARE_KEY];
    struct fjson_object *obj; /* frozen; one reference */
    cmctx_t *held[3];         /* references keeping the key's pointers unique */
    struct fjson_object *src; /* a reference to the object a key's pointer names, or NULL */
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
    fjson_object_put(e->src);
    memset(e, 0, sizeof *e);
}

struct fjson_object *mmx_share_get(struct mmx_share *m, const uintptr_t k[MMX_SHARE_KEY]) {
    if (m == NULL) return NULL;
    struct share_ent *e = slot(m, k);
    if (e->obj == NULL || memcmp(e->k, k, sizeof e->k) != 0) return NULL;
    return fjson_object_get(e->obj);
}

static struct fjson_object *share_put(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY], struct fjson_object *obj,
                                      cmctx_t *const held[3], struct fjson_object *src) {
    if (obj == NULL || ctx_json_freeze(obj) != 0) return obj; /* unshared: the message's own */
    if (*m == NULL && (*m = calloc(1, sizeof **m)) == NULL) return obj;
    struct share_ent *e = slot(*m, k);
    ent_clear(e);
    memcpy(e->k, k, sizeof e->k);
    for (int i = 0; held != NULL && i < 3; i++) e->held[i] = held[i] ? cmctx_ref(held[i]) : NULL;
    e->src = src != NULL ? fjson_object_get(src) : NULL;
    e->obj = obj;
    return fjson_object_get(obj);
}

struct fjson_object *mmx_share_put(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY], struct fjson_object *obj,
                                   cmctx_t *const held[3]) {
    return share_put(m, k, obj, held, NULL);
}

struct fjson_object *mmx_share_put_src(struct mmx_share **m, const uintptr_t k[MMX_SHARE_KEY],
                                       struct fjson_object *obj, struct fjson_object *src) {
    return share_put(m, k, obj, NULL, src);
}

void mmx_share_free(struct mmx_share **m) {
    if (*m == NULL) return;
    for (size_t i = 0; i < SHARE_SLOTS; i++) ent_clear(&(*m)->e[i]);
    free(*m);
    *m = NULL;
}

static int share_group(rsconf_t *conf, const mmx_inst *inst, const char *group) {
    const char *prop = NULL, *tpl = tplscan_find(conf, group, 1, &prop);
    if (tpl == NULL) return 1;
    LogMsg(0, RS_RET_OK, LOG_INFO, "mmctxenrich(%s): template '%s' names $%s: $!ctx!%s is built for each message "
           "(not shared)", inst->name, tpl, prop, group);
    return 0;
}

void mmx_share_scan_templates(rsconf_t *conf, mmx_inst *inst) {
    inst->share_cm = share_group(conf, inst, "cm");
    inst->share_host = share_group(conf, inst, "host");
}
