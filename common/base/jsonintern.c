/* jsonintern.c: short JSON strings shared by reference (contract in jsonintern.h). */
#include "jsonintern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct intern_ent {
    struct fjson_object *obj; /* one reference of the table's; NULL: empty */
    unsigned char len;
    char text[CTX_JSON_INTERN_MAXLEN];
};

struct ctx_json_intern {
    size_t mask;
    unsigned long long hits, lookups;
    struct intern_ent e[];
};

ctx_json_intern_t *ctx_json_intern_new(size_t slots) {
    if (slots == 0 || slots > 65536 || (slots & (slots - 1)) != 0) return NULL;
    ctx_json_intern_t *t = calloc(1, sizeof *t + slots * sizeof t->e[0]);
    if (t != NULL) t->mask = slots - 1;
    return t;
}

void ctx_json_intern_free(ctx_json_intern_t *t) {
    if (t == NULL) return;
    for (size_t i = 0; i <= t->mask; i++) fjson_object_put(t->e[i].obj);
    free(t);
}

static size_t slot_of(const ctx_json_intern_t *t, const char *s, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & t->mask;
}

struct fjson_object *ctx_json_intern_str(ctx_json_intern_t *t, const char *s) {
    size_t len = strlen(s);
    if (len >= CTX_JSON_INTERN_MAXLEN) return fjson_object_new_string_len(s, (int)len);
    struct intern_ent *e = &t->e[slot_of(t, s, len)];
    t->lookups++;
    if (e->obj != NULL && e->len == len && memcmp(e->text, s, len) == 0) {
        t->hits++;
        return fjson_object_get(e->obj);
    }
    struct fjson_object *o = fjson_object_new_string_len(s, (int)len);
    if (o == NULL) return NULL;
    fjson_object_put(e->obj); /* messages holding the old one keep it */
    e->obj = fjson_object_get(o);
    e->len = (unsigned char)len;
    memcpy(e->text, s, len);
    return o;
}

void ctx_json_intern_stats(const ctx_json_intern_t *t, unsigned long long *hits, unsigned long long *lookups) {
    *hits = t->hits;
    *lookups = t->lookups;
}
