/* redact_rules.c: the rules object: load a rules file (or none), compile the built-in and custom
 * rules, read the HMAC key, build the per-tenant views; name lookups for the module.
 *
 * Concurrency: a rules object is built by one thread and immutable once returned; every read
 * function below may then be called from any thread at the same time.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfgfile.h"
#include "ctxlog_common.h"
#include "redact_conf.h"
#include "redact_int.h"

#define RULES_FILE_MAX (4 * 1024 * 1024)

static int compile_rules(struct ctx_redact_rules *r, const struct rx_conf *conf, char *err, size_t errlen) {
    int nb = rx_builtin_count();
    r->rule = calloc((size_t)nb + conf->nrule, sizeof *r->rule);
    if (r->rule == NULL) return CTX_ENOMEM;
    for (int i = 0; i < nb; i++) {
        r->nrules = i + 1;
        int rc = rx_builtin_fill(i, &r->rule[i], r->keys, r->nkeys);
        if (rc == 0) rc = rx_rule_compile(&r->rule[i], 0, NULL, 0, err, errlen);
        if (rc < 0) return rc;
        if (strcmp(r->rule[i].name, "kv-secret") == 0) r->kv_rule = i;
    }
    for (size_t i = 0; i < conf->nrule; i++) {
        const struct rx_custom *c = &conf->rule[i];
        for (int k = 0; k < nb; k++)
            if (strcmp(r->rule[k].name, c->name) == 0) {
                snprintf(err, errlen, "%s:%d: [rule %s] has the name of a built-in rule, expected another name",
                         conf->file, c->line, c->name);
                return CTX_EPARSE;
            }
        r->nrules = nb + (int)i + 1;
        int rc = rx_custom_fill(&r->rule[nb + i], c, conf->file, err, errlen);
        if (rc < 0) return rc;
    }
    return 0;
}

static int take_keys(struct ctx_redact_rules *r, struct rx_conf *conf) {
    r->keys = conf->keys;
    r->nkeys = conf->nkeys;
    conf->keys = NULL;
    conf->nkeys = 0;
    return 0;
}

static int load_key(struct ctx_redact_rules *r, const struct rx_conf *conf, const char *key_path, char *err,
                    size_t errlen) {
    if (key_path != NULL) return rx_key_load(r, key_path, err, errlen);
    if (conf->key_file == NULL) return 0;
    if (conf->key_file[0] == '/' || conf->dir == NULL) return rx_key_load(r, conf->key_file, err, errlen);
    size_t n = strlen(conf->dir) + strlen(conf->key_file) + 2;
    char *p = malloc(n);
    if (p == NULL) return CTX_ENOMEM;
    snprintf(p, n, "%s/%s", conf->dir, conf->key_file);
    int rc = rx_key_load(r, p, err, errlen);
    free(p);
    return rc;
}

static int build(ctx_redact_rules **out, const char *text, size_t len, const char *name, const char *dir,
                 const char *key_path, char *err, size_t errlen) {
    struct rx_conf conf;
    memset(&conf, 0, sizeof conf);
    conf.file = name;
    *out = NULL;
    if (err != NULL && errlen > 0) err[0] = '\0';
    struct ctx_redact_rules *r = calloc(1, sizeof *r);
    int rc = r ? 0 : CTX_ENOMEM;
    if (rc == 0 && dir != NULL && (conf.dir = strdup(dir)) == NULL) rc = CTX_ENOMEM;
    if (rc == 0) rc = rx_conf_parse(&conf, text, len, err, errlen);
    if (rc == 0) {
        r->hash_len = conf.hash_len;
        r->utf8_replace = conf.utf8_replace;
        rc = take_keys(r, &conf);
    }
    if (rc == 0) rc = compile_rules(r, &conf, err, errlen);
    if (rc == 0) rc = load_key(r, &conf, key_path, err, errlen);
    if (rc == 0) rc = rx_sets_build(r, &conf, err, errlen);
    rx_conf_clear(&conf);
    if (rc == CTX_ENOMEM && err != NULL) snprintf(err, errlen, "%s: out of memory", name);
    if (rc < 0) {
        ctx_redact_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int ctx_redact_rules_new(ctx_redact_rules **out, char *err, size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    return build(out, "", 0, "(built-in rules)", NULL, NULL, err, errlen);
}

int ctx_redact_rules_load_string(ctx_redact_rules **out, const char *text, size_t len, const char *name,
                                 const char *key_path, char *err, size_t errlen) {
    if (out == NULL || (text == NULL && len > 0)) return CTX_EINVAL;
    return build(out, text ? text : "", len, name ? name : "(string)", NULL, key_path, err, errlen);
}


int ctx_redact_rules_load_file(ctx_redact_rules **out, const char *rules_path, const char *key_path, char *err,
                               size_t errlen) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    if (rules_path == NULL) return build(out, "", 0, "(built-in rules)", NULL, key_path, err, errlen);
    size_t len = 0;
    char *text = NULL;
    int rrc = ctx_cfg_read(rules_path, "redaction rules file", RULES_FILE_MAX, &text, &len, err, errlen);
    if (rrc != 0) return rrc;
    char *pcopy = strdup(rules_path);
    int rc = pcopy ? build(out, text, len, rules_path, dirname(pcopy), key_path, err, errlen) : CTX_ENOMEM;
    free(pcopy);
    free(text);
    return rc;
}

void ctx_redact_rules_free(ctx_redact_rules *r) {
    if (r == NULL) return;
    for (int i = 0; i < r->nrules; i++) rx_rule_clear(&r->rule[i]);
    free(r->rule);
    for (size_t i = 0; i < r->nkeys; i++) free(r->keys[i]);
    free(r->keys);
    if (r->key != NULL) {
        memset(r->key, 0, r->keylen);
        free(r->key);
    }
    free(r->key_path);
    rx_set_free(r->global);
    for (size_t i = 0; i < r->ntenant_sets; i++) rx_set_free(r->tenant_sets[i]);
    free(r->tenant_sets);
    free(r);
}

int ctx_redact_rules_count(const ctx_redact_rules *r) { return r ? r->nrules : 0; }

const char *ctx_redact_rules_name(const ctx_redact_rules *r, int i) {
    return (r && i >= 0 && i < r->nrules) ? r->rule[i].name : NULL;
}

int ctx_redact_rules_find(const ctx_redact_rules *r, const char *name) {
    for (int i = 0; r && name && i < r->nrules; i++)
        if (strcmp(r->rule[i].name, name) == 0) return i;
    return CTX_ENOENT;
}

unsigned ctx_redact_rules_warnings(const ctx_redact_rules *r, char *msg, size_t msglen) {
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    if (r == NULL) return 0;
    if ((r->warnings & CTX_REDACT_WARN_KEY_WORLD_READABLE) && msg != NULL)
        snprintf(msg, msglen, "key file %s is %s", r->key_path, r->key_mode_why);
    return r->warnings;
}
