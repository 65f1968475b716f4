/* redact_prefilter.c: build the prefilter of a set (the scan is redact_scan.c): the trigger
 * literals of its active rules, an 8 KiB bitmap keyed by a 16-bit hash of each literal's first
 * three bytes, and the nibble tables of the SIMD pass (a "Teddy"-style filter, as in Hyperscan:
 * each literal goes into one of 8 buckets; a position is a candidate when its four bytes match
 * the nibbles of the first four bytes of some literal of one bucket).
 *
 * Concurrency: runs while loading; the tables are read-only afterwards.
 */
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "redact_int.h"
#include "grow.h"

/* the bitmap key of the three bytes a b c; bytes are OR-ed with 0x20 (ASCII lower case, and a few
 * harmless collisions such as '@' / '`') so that the scan can key a 4-byte load without a table */
uint16_t rx_hash3(uint8_t a, uint8_t b, uint8_t c) {
    uint32_t h = ((uint32_t)(c | 0x20) << 16) | ((uint32_t)(b | 0x20) << 8) | (uint32_t)(a | 0x20);
    return (uint16_t)((h * 0x9E3779B1u) >> 16);
}

static int add_rule_triggers(struct ctx_redact_set *s, const struct rx_rule *r, uint32_t rule, size_t *cap) {
    for (size_t k = 0; r->trig[k]; k++) {
        if (s->ntrig == *cap) {
            struct rx_trigger *t = ctx_grow(s->trig, cap, sizeof *t, 32);
            if (t == NULL) return CTX_ENOMEM;
            s->trig = t;
        }
        struct rx_trigger *t = &s->trig[s->ntrig++];
        const uint8_t *l = (const uint8_t *)r->trig[k];
        t->lit = r->trig[k];
        t->len = (uint32_t)strlen(r->trig[k]);
        t->nocase = r->trig_nocase[k];
        t->rule = rule;
        t->hash = rx_hash3(l[0], l[1], l[2]);
        s->bitmap[t->hash >> 3] |= (uint8_t)(1u << (t->hash & 7));
    }
    return 0;
}

static int cmp_prefix(const void *a, const void *b) {
    const struct rx_trigger *x = *(const struct rx_trigger *const *)a, *y = *(const struct rx_trigger *const *)b;
    for (int j = 0; j < 4; j++) {
        int d = (x->lit[j] | 0x20) - (y->lit[j] | 0x20);
        if (d != 0) return d;
    }
    return 0;
}

static int cmp_hash(const void *a, const void *b) {
    const struct rx_trigger *x = a, *y = b;
    return (x->hash > y->hash) - (x->hash < y->hash);
}

/* bucket 0 holds the 3-byte literals (any 4th byte); the longer ones, sorted by their first four
 * bytes, fill the other buckets in turn so that a bucket holds similar prefixes (fewer nibble
 * combinations, fewer false candidates). With no 3-byte literal, all 8 buckets are for long ones. */
static int build_nibbles(struct ctx_redact_set *s) {
    const struct rx_trigger **order = malloc((s->ntrig + 1) * sizeof *order);
    size_t nlong = 0, nshort = 0;
    if (order == NULL) return CTX_ENOMEM;
    for (size_t k = 0; k < s->ntrig; k++)
        if (s->trig[k].len >= 4) order[nlong++] = &s->trig[k];
    nshort = s->ntrig - nlong;
    qsort(order, nlong, sizeof *order, cmp_prefix);
    size_t first_long = nshort > 0 ? 1 : 0, nbuckets = 8 - first_long;
    for (size_t k = 0; k < s->ntrig; k++) {
        const struct rx_trigger *t = &s->trig[k];
        if (t->len >= 4) continue;
        for (int j = 0; j < 3; j++) {
            s->nib_lo[j][(t->lit[j] | 0x20) & 0xF] |= 1;
            s->nib_hi[j][((uint8_t)t->lit[j] | 0x20) >> 4] |= 1;
        }
        for (int x = 0; x < 16; x++) {
            s->nib_lo[3][x] |= 1;
            s->nib_hi[3][x] |= 1;
        }
    }
    for (size_t k = 0; k < nlong; k++) {
        uint8_t bucket = (uint8_t)(1u << (first_long + k * nbuckets / nlong));
        for (int j = 0; j < 4; j++) {
            uint8_t c = (uint8_t)order[k]->lit[j] | 0x20;
            s->nib_lo[j][c & 0xF] |= bucket;
            s->nib_hi[j][c >> 4] |= bucket;
        }
    }
    free(order);
    return 0;
}

int rx_set_prefilter(struct ctx_redact_set *s) {
    size_t cap = 0;
    s->digits_rule = -1;
    s->at_rule = -1;
    s->dotted_rule = -1;
    s->colons_rule = -1;
    memset(s->bitmap, 0, sizeof s->bitmap);
    memset(s->nib_lo, 0, sizeof s->nib_lo);
    memset(s->nib_hi, 0, sizeof s->nib_hi);
    s->always = calloc(s->nactive + 1, sizeof *s->always);
    s->need_at = calloc(s->nactive + 1, sizeof *s->need_at);
    if (s->always == NULL || s->need_at == NULL) return CTX_ENOMEM;
    for (size_t i = 0; i < s->nactive; i++) {
        uint32_t id = s->active[i];
        const struct rx_rule *r = &s->rules->rule[id];
        if (r->special == RX_SP_DIGITS)
            s->digits_rule = (int)id;
        else if (r->special == RX_SP_AT)
            s->at_rule = (int)id;
        else if (r->special == RX_SP_DOTTED)
            s->dotted_rule = (int)id;
        else if (r->special == RX_SP_COLONS)
            s->colons_rule = (int)id;
        else if ((r->trig == NULL || r->trig[0] == NULL) && !r->need_at)
            s->always[s->nalways++] = id;
        else if (r->trig != NULL && add_rule_triggers(s, r, id, &cap) < 0)
            return CTX_ENOMEM;
        if (r->need_at) s->need_at[s->nneed_at++] = id;
    }
    qsort(s->trig, s->ntrig, sizeof *s->trig, cmp_hash); /* the scan looks literals up by hash */
    return build_nibbles(s);
}
