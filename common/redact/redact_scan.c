/* redact_scan.c: one cheap pass over a message that tells which rules can match and where their
 * first chance is, so that a rule's regex runs only on the few messages that hold one of its
 * trigger literals ("password", "eyJ", "AKIA", ...), a stretch of 13 digits (card), an '@'
 * (email; url-userinfo needs one too), "D.D" (ipv4) or an IPv6-like run of ':' (ipv6).
 *
 * Literals: on x86-64 with SSSE3, 16 positions at a time through the nibble tables of the set
 * (redact_prefilter.c); each candidate position, and every position on the scalar path, is then
 * keyed into the 8 KiB bitmap and, on a hit, checked against the literals themselves.
 * Cards: a stretch of >= 13 bytes of [0-9 .-] holding >= 13 digits is a candidate.
 *
 * Concurrency: reads the immutable set; writes only the caller's (per-thread) array.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "redact_int.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <tmmintrin.h>
#define RX_HAVE_SSSE3 1
#endif

static uint8_t class_tab[256]; /* 1 digit, 2 separator inside a card number (' ', '-' or '.'), 0 other */
static uint8_t hex_tab[256];   /* 1 for [0-9A-Fa-f:] (the characters of an IPv6 address) */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
#ifdef RX_HAVE_SSSE3
static int use_ssse3; /* set once from the CPU; rx_scan_use_simd() may turn it off (tests) */
static int simd_allowed = 1;
#endif

static void tables_init(void) {
    for (int i = '0'; i <= '9'; i++) class_tab[i] = 1;
    class_tab[' '] = 2;
    class_tab['-'] = 2;
    class_tab['.'] = 2;
    for (int i = 0; i < 256; i++)
        hex_tab[i] = (i >= '0' && i <= '9') || ((i | 32) >= 'a' && (i | 32) <= 'f') || i == ':';
#ifdef RX_HAVE_SSSE3
    __builtin_cpu_init();
    use_ssse3 = __builtin_cpu_supports("ssse3");
#endif
}

int rx_scan_use_simd(int on) {
    pthread_once(&tables_once, tables_init);
#ifdef RX_HAVE_SSSE3
    simd_allowed = on;
    return use_ssse3 && on;
#else
    (void)on;
    return 0;
#endif
}

struct scan { /* state of one pass */
    const struct ctx_redact_set *s;
    const uint8_t *p;
    size_t n;
    size_t *first;
    size_t run; /* card-ish bytes ending at the current position */
    int want_card;
    int esc; /* a '%' or '\\' seen (the text may hold escapes: redact_decode.c) */
};

static inline uint16_t key_of(uint32_t w) { return (uint16_t)((((w | 0x202020u) & 0xFFFFFFu) * 0x9E3779B1u) >> 16); }

/* the literals whose key h the trigram at p[start] has */
static void check_literals(struct scan *sc, size_t start, uint16_t h) {
    size_t lo = 0, hi = sc->s->ntrig; /* trig is sorted by hash: the first with hash >= h */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sc->s->trig[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < sc->s->ntrig && sc->s->trig[k].hash == h; k++) {
        const struct rx_trigger *t = &sc->s->trig[k];
        if (sc->first[t->rule] != RX_NONE || t->len > sc->n - start) continue;
        int eq = t->nocase ? strncasecmp((const char *)sc->p + start, t->lit, t->len) == 0
                           : memcmp(sc->p + start, t->lit, t->len) == 0;
        if (eq) sc->first[t->rule] = start;
    }
}

/* the trigram at p[start] (start + 3 <= n): bitmap first, literals on a hit */
static inline void check_pos(struct scan *sc, size_t start) {
    const uint8_t *p = sc->p;
    uint16_t h = key_of((uint32_t)p[start] | ((uint32_t)p[start + 1] << 8) | ((uint32_t)p[start + 2] << 16));
    if (__builtin_expect((sc->s->bitmap[h >> 3] >> (h & 7)) & 1, 0)) check_literals(sc, start, h);
}

/* a stretch of card-ish bytes starts at j: a card candidate if it holds RX_DIGIT_RUN digits */
static void card_stretch(struct scan *sc, size_t j) {
    size_t d = 0;
    if (!sc->want_card) return;
    for (size_t i = j; i < sc->n && class_tab[sc->p[i]]; i++) d += class_tab[sc->p[i]] & 1u;
    if (d >= RX_DIGIT_RUN) {
        sc->first[sc->s->digits_rule] = j;
        sc->want_card = 0;
    }
}

static void scan_scalar(struct scan *sc, size_t lit_from, size_t card_from) {
    for (size_t i = lit_from; i + 3 <= sc->n; i++) check_pos(sc, i);
    if (sc->s->digits_rule < 0) return;
    for (size_t i = card_from; i < sc->n; i++) {
        if (class_tab[sc->p[i]] == 0)
            sc->run = 0;
        else if (++sc->run == RX_DIGIT_RUN)
            card_stretch(sc, i + 1 - RX_DIGIT_RUN);
    }
}

#ifdef RX_HAVE_SSSE3
/* card-ish bitmask m of the 16 bytes at i: find stretches of >= 13, carry the run to the next block */
static void card_block(struct scan *sc, size_t i, uint32_t m) {
    if (m == 0xFFFF) {
        if (sc->run < RX_DIGIT_RUN && sc->run + 16 >= RX_DIGIT_RUN) card_stretch(sc, i - sc->run);
        sc->run += 16;
        return;
    }
    uint32_t low = (uint32_t)__builtin_ctz(~m & 0xFFFFu); /* card-ish bytes at the start of the block */
    if (sc->run < RX_DIGIT_RUN && sc->run + low >= RX_DIGIT_RUN) card_stretch(sc, i - sc->run);
    uint32_t r = m & (m >> 1); /* bit k: bytes k..k+12 all card-ish */
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 5;
    if (r != 0 && __builtin_ctz(r) > 0) card_stretch(sc, i + (size_t)__builtin_ctz(r));
    sc->run = (size_t)__builtin_clz((~m & 0xFFFFu) << 16); /* card-ish bytes at the end */
}

/* bit k: the four bytes at p[k..k+3] match the nibbles of some literal of one bucket */
__attribute__((target("ssse3"))) static inline uint32_t lit_block(const uint8_t *p, const __m128i *tl,
                                                                  const __m128i *th) {
    const __m128i f = _mm_set1_epi8(0x20), lo4 = _mm_set1_epi8(0x0F);
    __m128i m = _mm_set1_epi8(-1);
    for (int j = 0; j < 4; j++) {
        __m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + j)), f);
        m = _mm_and_si128(m, _mm_shuffle_epi8(tl[j], _mm_and_si128(x, lo4)));
        m = _mm_and_si128(m, _mm_shuffle_epi8(th[j], _mm_and_si128(_mm_srli_epi16(x, 4), lo4)));
    }
    return ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128())) & 0xFFFFu;
}

__attribute__((target("ssse3"))) static inline int esc_block(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(raw, _mm_set1_epi8('%')), _mm_cmpeq_epi8(raw, _mm_set1_epi8('\\')));
    return _mm_movemask_epi8(m) != 0;
}

__attribute__((target("ssse3"))) static inline uint32_t card_mask(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p), d = _mm_sub_epi8(raw, _mm_set1_epi8('0'));
    __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(raw, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(raw, _mm_set1_epi8('-')));
    sep = _mm_or_si128(sep, _mm_cmpeq_epi8(raw, _mm_set1_epi8('.')));
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(digit, sep));
}

/* literals at every position that starts a trigram, cards over whole blocks; returns where the
 * scalar card pass goes on (literals are all done, the last block overlapping the one before) */
__attribute__((target("ssse3"))) static size_t scan_ssse3(struct scan *sc) {
    const struct ctx_redact_set *s = sc->s;
    __m128i tl[4], th[4];
    for (int j = 0; j < 4; j++) {
        tl[j] = _mm_loadu_si128((const __m128i *)s->nib_lo[j]);
        th[j] = _mm_loadu_si128((const __m128i *)s->nib_hi[j]);
    }
    size_t i = 0;
    for (; i + 19 <= sc->n; i += 16) {
        for (uint32_t c = lit_block(sc->p + i, tl, th); c != 0; c &= c - 1) check_pos(sc, i + (size_t)__builtin_ctz(c));
        if (s->digits_rule >= 0) card_block(sc, i, card_mask(sc->p + i));
        sc->esc |= esc_block(sc->p + i);
    }
    if (i > 0 && i + 2 < sc->n) { /* positions i .. n-4 through one block at n-19 */
        size_t b = sc->n - 19;
        for (uint32_t c = lit_block(sc->p + b, tl, th) >> (i - b); c != 0; c &= c - 1)
            check_pos(sc, i + (size_t)__builtin_ctz(c));
    }
    return i;
}
#endif

/* ipv4: the first "D.D" (digit, dot, digit); the candidate starts at the digits before the dot */
static size_t find_dotted(const uint8_t *p, size_t n) {
    for (const uint8_t *d = memchr(p, '.', n); d != NULL; d = memchr(d + 1, '.', n - (size_t)(d + 1 - p))) {
        size_t i = (size_t)(d - p);
        if (i == 0 || i + 1 >= n || class_tab[p[i - 1]] != 1 || class_tab[p[i + 1]] != 1) continue;
        while (i > 0 && class_tab[p[i - 1]] == 1) i--;
        return i;
    }
    return RX_NONE;
}

/* ipv6: the first run of [0-9A-Fa-f:] that holds "::", seven ':', or three ':' and a letter (not
 * "2026:06:13:51", the time in an access log) */
static size_t find_colons(const uint8_t *p, size_t n) {
    for (const uint8_t *c = memchr(p, ':', n); c != NULL;) {
        size_t s = (size_t)(c - p), e, colons = 0;
        int dbl = 0, alpha = 0;
        while (s > 0 && hex_tab[p[s - 1]]) s--;
        for (e = s; e < n && hex_tab[p[e]]; e++) {
            colons += p[e] == ':';
            dbl |= p[e] == ':' && e + 1 < n && p[e + 1] == ':';
            alpha |= p[e] > ':';
        }
        if (dbl || colons >= 7 || (colons >= 3 && alpha)) return s;
        c = e < n ? memchr(p + e, ':', n - e) : NULL;
    }
    return RX_NONE;
}

/* the prefilters that are not literals, and the '@' that some rules need */
static void scan_special(const struct ctx_redact_set *s, const uint8_t *p, size_t n, size_t *first) {
    int at = -1; /* '@' present: -1 unknown, 0 no, 1 yes */
    if (s->at_rule >= 0) {
        const uint8_t *a = memchr(p, '@', n);
        at = a != NULL;
        if (a != NULL) first[s->at_rule] = (size_t)(a - p);
    }
    if (s->dotted_rule >= 0) first[s->dotted_rule] = find_dotted(p, n);
    if (s->colons_rule >= 0) first[s->colons_rule] = find_colons(p, n);
    for (size_t i = 0; i < s->nneed_at; i++) {
        uint32_t r = s->need_at[i];
        int has_trig = s->rules->rule[r].trig != NULL;
        if (has_trig && first[r] == RX_NONE) continue;
        if (at < 0) at = memchr(p, '@', n) != NULL;
        first[r] = !at ? RX_NONE : has_trig ? first[r] : 0;
    }
}

/* first[] (indexed by rule, RX_NONE = not seen) gets the offset of each rule's first chance;
 * returns 1 if the text holds a '%' or a '\\' (it may hold escapes to decode), else 0 */
int rx_prefilter_scan(const struct ctx_redact_set *s, const uint8_t *p, size_t n, size_t *first) {
    struct scan sc = {s, p, n, first, 0, s->digits_rule >= 0, 0};
    size_t lit_done = 0, card_done = 0;
    pthread_once(&tables_once, tables_init);
#ifdef RX_HAVE_SSSE3
    if (use_ssse3 && simd_allowed && n >= 19) {
        card_done = scan_ssse3(&sc);
        lit_done = n - 3; /* the scalar pass checks the last trigram start, n-3 (a 3-byte literal) */
    }
#endif
    scan_scalar(&sc, lit_done, card_done);
    scan_special(s, p, n, first);
    /* the bytes the SIMD blocks did not cover (all of them on the scalar path) */
    return sc.esc || memchr(p + card_done, '%', n - card_done) != NULL || memchr(p + card_done, '\\', n - card_done) != NULL;
}
