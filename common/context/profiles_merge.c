/* profiles_merge.c: the profiles file + libvirt's domains -> one store (contract and
 * precedence in profiles_merge.h).
 *
 * The merge works on the file's JSON document: domain fields are added as the keys a
 * hand-written entry would have, and the result goes through the file's own loader,
 * so every check (tenant ids, duplicates, globs) is the file's.
 *
 * Concurrency: touches only its arguments and the new store.
 */
#include "profiles_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfastjson/json.h>

#include "ctxlog_common.h"
#include "profiles_int.h"

struct mg {
    const ctx_profiles_t *file;
    struct json_object *used; /* keys given so far: "v:<dev>", "m:<mac>", "u:<uuid>" -> null */
    ctx_merge_stats_t st;
};

static int has(struct json_object *o, const char *k) {
    return json_object_object_get_ex(o, k, NULL);
}

static const char *str(struct json_object *o, const char *k) {
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                        : NULL;
}

static int add_str(struct json_object *o, const char *k, const char *v) {
    if (v == NULL || has(o, k)) return 0;
    struct json_object *s = json_object_new_string(v);
    if (s == NULL) return CTX_ENOMEM;
    json_object_object_add(o, k, s);
    return 0;
}

/* 1 if the key (kind 'v', 'm', 'u') is free: no file VM has it and no domain took it; then claims it */
static int claim(struct mg *m, char kind, const char *text) {
    uint8_t mac[6];
    ctx_match_t how;
    int taken = 0;
    if (kind == 'v') taken = ctx_profiles_by_vnic(m->file, text, &how) != NULL && how == CTX_MATCH_VNIC;
    if (kind == 'm') taken = ctx_prof_mac_parse(text, strlen(text), mac) && ctx_profiles_by_mac(m->file, mac, NULL);
    if (kind == 'u') taken = ctx_profiles_by_uuid(m->file, text) != NULL;
    char key[80];
    snprintf(key, sizeof key, "%c:%s", kind, text);
    if (taken || has(m->used, key)) {
        m->st.keys_dropped++;
        return 0;
    }
    json_object_object_add(m->used, key, NULL);
    return 1;
}

static int add_list(struct json_object *o, const char *k, struct json_object *arr) {
    if (json_object_array_length(arr) == 0) {
        json_object_put(arr);
        return 0;
    }
    json_object_object_add(o, k, arr);
    return 1;
}

/* the domain's vNICs (then MACs, only if a vNIC was added) for an entry without them */
static int add_nics(struct mg *m, struct json_object *o, const ctx_lvdom_t *d) {
    if (has(o, "vnic")) return 0;
    struct json_object *v = json_object_new_array(), *mac = json_object_new_array();
    if (v == NULL || mac == NULL) {
        json_object_put(v);
        json_object_put(mac);
        return CTX_ENOMEM;
    }
    for (size_t i = 0; i < d->n_ifaces; i++) {
        const ctx_lviface_t *f = &d->ifaces[i];
        if (!claim(m, 'v', f->dev)) continue;
        json_object_array_add(v, json_object_new_string(f->dev));
        if (f->mac != NULL && !has(o, "mac") && claim(m, 'm', f->mac))
            json_object_array_add(mac, json_object_new_string(f->mac));
    }
    if (!add_list(o, "vnic", v)) {
        json_object_put(mac);
        return 0;
    }
    if (!has(o, "mac")) add_list(o, "mac", mac);
    else json_object_put(mac);
    return 0;
}

static int fill(struct mg *m, struct json_object *o, const ctx_lvdom_t *d, int matched) {
    int r = 0;
    if (!has(o, "uuid") && (matched || claim(m, 'u', d->uuid))) r |= add_str(o, "uuid", d->uuid);
    r |= add_str(o, "name", d->name);
    r |= add_str(o, "tenant", d->tenant);
    r |= add_str(o, "user", d->user);
    r |= add_str(o, "cgroup", d->cgroup);
    return r < 0 ? CTX_ENOMEM : add_nics(m, o, d);
}

/* the domain a file entry names (by uuid, else by name), not yet taken; or -1 */
static long match(struct json_object *o, const ctx_lvdom_t *doms, size_t n, const char *taken) {
    const char *u = str(o, "uuid"), *name = str(o, "name");
    char norm[37];
    if (u != NULL && !ctx_prof_uuid_norm(u, strlen(u), norm)) return -1;
    for (size_t i = 0; i < n; i++) {
        if (taken[i]) continue;
        if (u != NULL ? strcmp(doms[i].uuid, norm) == 0 : name != NULL && strcmp(doms[i].dom_name, name) == 0)
            return (long)i;
    }
    return -1;
}

static int merge_into(struct mg *m, struct json_object *root, const ctx_lvdom_t *doms, size_t n) {
    struct json_object *vms, *def;
    char *taken = calloc(n ? n : 1, 1);
    int r = 0, def_tenant = json_object_object_get_ex(root, "defaults", &def) && has(def, "tenant");
    if (taken == NULL) return CTX_ENOMEM;
    json_object_object_get_ex(root, "vms", &vms);
    size_t nf = (size_t)json_object_array_length(vms);
    for (size_t i = 0; i < nf && r == 0; i++) {
        struct json_object *o = json_object_array_get_idx(vms, (int)i);
        long k = match(o, doms, n, taken);
        if (k < 0) continue;
        taken[k] = 1;
        m->st.matched++;
        r = fill(m, o, &doms[k], 1);
    }
    for (size_t k = 0; k < n && r == 0; k++) {
        if (taken[k]) continue;
        if (doms[k].tenant == NULL && !def_tenant) {
            m->st.no_tenant++;
            continue;
        }
        struct json_object *o = json_object_new_object();
        if (o == NULL || (r = fill(m, o, &doms[k], 0)) < 0) {
            json_object_put(o);
            r = CTX_ENOMEM;
            break;
        }
        json_object_array_add(vms, o);
        m->st.added++;
    }
    free(taken);
    return r;
}

static struct json_object *file_root(const char *text, size_t len) {
    if (text == NULL) {
        struct json_object *root = json_object_new_object(), *vms = json_object_new_array();
        if (root == NULL || vms == NULL) {
            json_object_put(root);
            json_object_put(vms);
            return NULL;
        }
        json_object_object_add(root, "vms", vms);
        return root;
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) text += 3, len -= 3;
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL) return NULL;
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    json_tokener_free(tok);
    return root;
}

int ctx_profiles_merge(const char *file_text, size_t file_len, const ctx_profiles_t *file_store,
                       const ctx_lvdom_t *doms, size_t n, const char *name, ctx_profiles_t **out,
                       ctx_merge_stats_t *st, char *err, size_t errlen) {
    struct mg m = {file_store, NULL, {0, 0, 0, 0}};
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (out == NULL || (doms == NULL && n > 0) || (file_text != NULL && file_store == NULL)) return CTX_EINVAL;
    *out = NULL;
    struct json_object *root = file_root(file_text, file_len);
    m.used = json_object_new_object();
    int r = root == NULL || m.used == NULL ? CTX_ENOMEM : merge_into(&m, root, doms, n);
    if (r == 0) {
        const char *doc = json_object_to_json_string_ext(root, FJSON_TO_STRING_PLAIN);
        r = doc ? ctx_profiles_load_buffer(doc, strlen(doc), name, out, err, errlen) : CTX_ENOMEM;
    }
    if (r == CTX_ENOMEM && err != NULL && errlen > 0) snprintf(err, errlen, "%s: out of memory", name ? name : "profiles");
    json_object_put(root);
    json_object_put(m.used);
    if (r == 0 && st != NULL) *st = m.st;
    return r;
}
