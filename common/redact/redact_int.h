/* redact_int.h: structures shared by the redact_*.c files. Not for module code: use redact.h.
 *
 * Invariants: everything reachable from struct ctx_redact_rules is written only while loading and is
 * read-only once ctx_redact_rules_load_*() returned; struct ctx_redact_ctx is owned by one thread.
 */
#ifndef CTXLOG_REDACT_INT_H
#define CTXLOG_REDACT_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "redact.h"

#define RX_NAME_MAX 48 /* longest rule / tenant name */
#define RX_HASH_MAX 64 /* longest hash tag, hex digits */
#define RX_MAX_REPL 72 /* longest replacement token, bytes ("[REDACTED:" name "]" or "[H:" hex "]") */
#define RX_BITMAP_BITS 65536u
#define RX_NONE ((size_t)-1)

enum rx_mode { RX_REDACT = 0, RX_HASH = 1, RX_MASK = 2 };
/* RX_V_CARD: issuer range and length, Luhn, not a labelled number (built-in card rule only) */
enum rx_validator { RX_V_NONE = 0, RX_V_LUHN = 1, RX_V_IPV4 = 2, RX_V_IPV6 = 3, RX_V_CARD = 4 };
/* prefilters that are not literals: a run of digits (card), '@' (email), "D.D" (ipv4), "::" or 3 ':' (ipv6) */
enum rx_special { RX_SP_NONE = 0, RX_SP_DIGITS = 1, RX_SP_AT = 2, RX_SP_DOTTED = 3, RX_SP_COLONS = 4 };
#define RX_GROUP_ANY (-1) /* replace the first capture group that is set (whole match if none is) */
#define RX_DIGIT_RUN 13   /* RX_SP_DIGITS fires on this many digits with only ' ' / '-' between them */

struct rx_trigger { /* a literal whose presence lets a rule run */
    char *lit;      /* the literal (lower-cased when nocase) */
    uint32_t len;   /* >= 3 */
    uint16_t hash;  /* rx_hash3() of its first three (lower-cased) bytes */
    uint8_t nocase; /* compare ASCII case-insensitively */
    uint32_t rule;  /* rule number */
};

struct rx_rule {          /* one rule; read-only after load */
    char *name;           /* [A-Za-z0-9_-]{1,48} */
    char *pattern;        /* PCRE2 source as compiled */
    pcre2_code *code;     /* compiled (JIT when available) */
    int jit;              /* 1 if JIT-compiled */
    int group;            /* capture group replaced: 0..N, or RX_GROUP_ANY */
    int validator;        /* enum rx_validator, run as callout 1 at the end of the pattern */
    int mode;             /* default enum rx_mode */
    int mask_keep;        /* RX_MASK: characters kept at the end */
    int on;               /* default switch in the global view */
    int builtin;          /* 1 for built-in rules */
    int special;          /* enum rx_special */
    int need_at;          /* run only if the message holds an '@'; with no trigger: from offset 0 */
    size_t back;          /* start the search this many bytes before the first trigger */
    char *pattern2;       /* kv-secret's XML element and mysql -p forms: their own pattern, run only when */
    pcre2_code *code2;    /* the message has a '<' or "mysql" / "mariadb" (rx_extra_wanted), from back2 */
    int jit2;             /* bytes before the first trigger; NULL / 0 for every other rule */
    size_t back2;
    char **trig;          /* trigger literals (NULL-terminated list), NULL if none */
    uint8_t *trig_nocase; /* per trigger */
    char **tenants;       /* NULL-terminated; NULL = all tenants */
};

struct ctx_redact_set { /* one view: global, or one tenant; read-only after load */
    const struct ctx_redact_rules *rules;
    char *tenant;       /* NULL for the global view */
    uint8_t *on;        /* per rule number */
    uint8_t *mode;      /* per rule number, enum rx_mode */
    uint8_t *mask_keep; /* per rule number */
    uint32_t *active;   /* rule numbers that are on, in order */
    size_t nactive;
    uint32_t *always; /* active rules with no prefilter: always run */
    size_t nalways;
    struct rx_trigger *trig; /* triggers of active rules */
    size_t ntrig;
    uint8_t bitmap[RX_BITMAP_BITS / 8]; /* bit rx_hash3(x) set for every trigger */
    uint8_t nib_lo[4][16];              /* SIMD filter: buckets whose literal has byte j's low nibble = index */
    uint8_t nib_hi[4][16];              /* ... and high nibble = index (bytes OR-ed with 0x20) */
    int digits_rule;                    /* rule number with RX_SP_DIGITS, or -1 */
    int at_rule;                        /* rule number with RX_SP_AT, or -1 */
    int dotted_rule;                    /* rule number with RX_SP_DOTTED, or -1 */
    int colons_rule;                    /* rule number with RX_SP_COLONS, or -1 */
    uint32_t *need_at;                  /* active rules with need_at */
    size_t nneed_at;
};

struct ctx_redact_rules {
    struct rx_rule *rule; /* nrules */
    int nrules;
    char **keys; /* secret key names; a leading '=' means exact case */
    size_t nkeys;
    int kv_rule;        /* number of kv-secret */
    unsigned char *key; /* HMAC key or NULL */
    size_t keylen;
    char *key_path;
    unsigned warnings; /* CTX_REDACT_WARN_* */
    char key_mode_why[160]; /* CTX_REDACT_WARN_KEY_WORLD_READABLE: what is wrong with the key file's mode */
    int hash_len;      /* hex digits in a hash tag */
    int utf8_replace;  /* 1: invalid UTF-8 becomes U+FFFD */
    struct ctx_redact_set *global;
    struct ctx_redact_set **tenant_sets; /* sorted by tenant name */
    size_t ntenant_sets;
};

struct rx_span {
    size_t s, e;
    uint32_t rule;
};

struct ctx_redact_ctx { /* per thread */
    const struct ctx_redact_rules *rules;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    size_t *first;   /* per rule: first trigger offset of this message, RX_NONE */
    uint64_t *count; /* per rule: matches */
    uint64_t errors; /* regex run-time errors */
    int uncounted;   /* 1: matches and errors are not counted (ctx_redact_ctx_set_counting) */
    struct rx_span *span;
    size_t nspan, spancap;
    char *out; /* output of ctx_redact_apply */
    size_t outlen, outcap;
    char *sdout; /* output of ctx_redact_sd */
    size_t sdlen, sdcap;
    char *tmp; /* ctx_redact_sd: one unescaped PARAM-VALUE */
    size_t tmpcap;
    char *dec;         /* the decoded view of the message (redact_decode.c) */
    size_t deccap;
    size_t *map;       /* decoded byte i comes from original bytes [map[i], map[i+1]) */
    size_t mapcap;
    const size_t *vmap; /* while the rules run on the decoded view: map, else NULL */
    void *mac;         /* EVP_MAC_CTX *, NULL without key */
    int cur_group;     /* callout: group of the rule being matched */
    int cur_validator; /* callout: enum rx_validator of that rule */
};

/* --- redact_builtin.c */
int rx_builtin_count(void);
/* fill r with built-in i (pattern not compiled); the kv-secret pattern is made from keys */
int rx_builtin_fill(int i, struct rx_rule *r, char *const *keys, size_t nkeys);
const char *const *rx_default_keys(void);
int rx_key_is_secret(const struct ctx_redact_rules *rules, const char *key, size_t len);

/* --- redact_compile.c */
struct rx_custom;
struct rx_conf;
int rx_rule_compile(struct rx_rule *r, int caseless, const char *file, int line, char *err, size_t errlen);
int rx_custom_fill(struct rx_rule *r, const struct rx_custom *c, const char *file, char *err, size_t errlen);
void rx_rule_clear(struct rx_rule *r);

/* --- redact_sets.c */
int rx_sets_build(struct ctx_redact_rules *rules, const struct rx_conf *conf, char *err, size_t errlen);
void rx_set_free(struct ctx_redact_set *set);

/* --- redact_prefilter.c */
uint16_t rx_hash3(uint8_t a, uint8_t b, uint8_t c);
int rx_set_prefilter(struct ctx_redact_set *set);

/* --- redact_scan.c */
/* returns 1 if p holds a '%' or a '\\' (escapes to decode may be there), else 0 */
int rx_prefilter_scan(const struct ctx_redact_set *set, const uint8_t *p, size_t n, size_t *first);
/* tests only: 0 forces the scalar scan in every thread (not thread-safe: call before any scan);
 * returns 1 if the SIMD scan is in use afterwards */
int rx_scan_use_simd(int on);

/* --- redact_validate.c */
int rx_callout(pcre2_callout_block *cb, void *data);
int rx_luhn_ok(const char *s, size_t len);

/* --- redact_card.c */
/* 1 if subj[start..end) is a card number: issuer and length, Luhn, not after a numeric field name */
int rx_card_ok(const char *subj, size_t start, size_t end);

/* --- redact_decode.c */
/* the decoded view of text into ctx->dec / ctx->map; *declen 0 if text holds no escape.
 * 0 or CTX_ENOMEM */
int rx_decode_view(ctx_redact_ctx *ctx, const char *text, size_t len, size_t *declen);

/* --- redact_cut.c */
#define RX_CUT_MIN 4 /* shortest tail of a cut message that is redacted as a possible secret's start */
/* a cut text: the tail from the start of any rule's partial match (>= RX_CUT_MIN bytes) becomes a
 * span; 0, CTX_ENOMEM, or CTX_EINVAL (run-time regex error) */
int rx_cut_tail(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len);

/* --- redact_apply.c */
int rx_add_span(ctx_redact_ctx *ctx, size_t s, size_t e, uint32_t rule);

/* --- redact_hmac.c */
int rx_key_load(struct ctx_redact_rules *rules, const char *path, char *err, size_t errlen);
void *rx_mac_new(const struct ctx_redact_rules *rules);
void rx_mac_free(void *mac);
int rx_mac_tag(void *mac, const struct ctx_redact_rules *rules, const char *s, size_t len, char *hex, int hexlen);

/* --- redact_output.c */
int rx_buf_reserve(char **buf, size_t *cap, size_t need);
int rx_render(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len, int sanitize);
size_t rx_utf8_sanitized_len(const char *s, size_t len);
size_t rx_utf8_copy_sanitized(char *dst, const char *s, size_t len);
/* kv-secret replacement of a whole value (JSON member / SD param with a secret key name) into
 * ctx->out; returns 1 and sets *out, 0 if kv-secret is off in set, or CTX_ENOMEM */
int rx_whole_value(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *s, size_t len, const char **out,
                   size_t *outlen);
size_t rx_replacement(ctx_redact_ctx *ctx, const ctx_redact_set *set, uint32_t rule, const char *s, size_t len,
                      char *dst);

#endif
