/* redact_builtin.c: the built-in rules (name, PCRE2 pattern, prefilter, default switch and mode)
 * and the secret key names. docs/redaction.md lists them in this order; keep the two in step.
 *
 * Concurrency: constant tables only; rx_builtin_fill() allocates into the rule it is given.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "redact_int.h"

struct builtin {
    const char *name;
    const char *pattern; /* NULL for kv-secret: made from the key list */
    int group;
    int validator;
    int on;
    int special;
    int need_at;
    size_t back;
    const char *trig_cs; /* '|'-separated literals, case-sensitive */
    const char *trig_ci; /* '|'-separated literals, ASCII case-insensitive */
};

/* key names that mark a secret value; '=' = exact case (sudo's "PWD=/home/x" is not a secret) */
static const char *const default_keys[] = {
    "password",  "passwd",      "=pwd",       "passphrase", "secret",      "token",
    "api_key",   "apikey",      "api-key",    "access_key", "accesskey",   "secret_key",
    "secretkey", "private_key", "privatekey", "credential", "credentials", NULL,
};

/* kv-secret = KV_A KEYS KV_B KEYS KV_C KEYS KV_D VALUE, and its second pattern (code2: run only when the
 * message has a '<' or a mysql / mariadb command, so the common case pays for neither)
 * KV_XML KEYS KV_XML_END | KV_MYSQL:
 * "--key value", key=value, key => value, key: value, key:value (not pam's "(passwd:chauthtok)" nor a
 * URL's "//token:80/"), "key": "value", \"key\":\"value\" (JSON inside a string) and URL-encoded %3D / %3A; the value is
 * quoted (with escapes, or unterminated at the end) or bare (up to space, quote, , ; & } ] ) < > or
 * %22 %26 %27 %2C); <key>value</key> (XML; the element name's prefix before the key is at most 30
 * bytes, and the second pattern starts 32 bytes before the first trigger); and mysql's -pPASSWORD on a mysql /
 * mariadb command line */
#define KV_A "(?i)(?:(?<=--)(?:"
#define KV_B ")[ \\t]+(?=[^\\s-])|(?:"
#define KV_C ")(?:\\\\?[\"']|%2[27])?(?:[ \\t]*=>?[ \\t]*|[ \\t]*:(?=[\\s\"'\\\\])[ \\t]*|%3[ad])|(?<![(])(?:"
#define KV_D ")(?:\\\\?[\"'])?:(?=[^\\s\"'\\\\:/])(?![0-9]{1,5}/))(?:%2[27])?" /* not host:port/ */
#define KV_XML "(?i)<[A-Za-z0-9_.:-]{0,30}?(?:"
#define KV_XML_END ")(?:[ \\t][^>\\n]*)?>" KV_NOT "([^<\\n]+)"
/* the command, then only options (--long[=v], -x, -xVALUE, -x VALUE) up to -pPASSWORD: "mysql here: ssh
 * -p2222" is prose, "mysql -u root -p db" asks for the password */
#define KV_MYSQL                                                                                     \
    "|(?<![A-Za-z0-9_.-])(?:mysql|mariadb)(?:[a-z]*|-[a-z]+)(?:\\.exe)?(?-i:(?:[ \\t]+(?:--[A-Za-z0-9-]+" \
    "(?:=[^\\s|;&<>]*)?|-[A-Za-oq-z](?:[^\\s|;&<>]+|[ \\t]+[^\\s|;&<>-][^\\s|;&<>]*)?))*"             \
    "[ \\t]+-p(?:\"([^\"\\n]*)\"|'([^'\\n]*)'|([^\\s\"'|;&<>]+)))"
/* not a secret: an object dump (Android's "token=Token{a64f992 ActivityRecord{...}}", Java's default
 * toString "android.os.BinderProxy@2bd79ce": a class name, '{' or '@', an identity hash) or a null */
#define KV_NOT                                                                                      \
    "(?![\"']?(?-i:[A-Z][A-Za-z0-9_$]*\\{[0-9a-f]{1,8}[ }]"                                     \
    "|(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*@[0-9a-f]{1,8}(?![0-9A-Za-z]))"                  \
    "|[\"']?(?:null|nil|none|undefined)(?![^\\s\"'\\\\,;&}\\]\\)<>%]))"
#define KV_VALUE                                               \
    KV_NOT "(?:\"((?:[^\"\\\\\\n]|\\\\.)+)(?:\"|\\z)"                 \
    "|'([^'\\n]+)(?:'|\\z)"                                    \
    "|\\\\\"((?:[^\"\\\\\\n]|\\\\[^\"\\n])+)(?:\\\\\"|\"|\\z)" \
    "|((?:[^\\s\"'\\\\,;&}\\]\\)<>%]|%(?!2[267Cc]))+))"

/* card: 13-19 digits starting 2-6, bare or grouped as cards are printed (4-4-4-1..4, 4-4-4-4-1..3,
 * 4-6-4/5 for Diners / Amex, 4-3-3-3 for 13-digit Visa) with one kind of separator (' ', '-' or
 * '.'), so that columns of numbers ("4567 123 456789 3") are not read as one. '_', '-' and '.'
 * next to the digits make them part of an identifier or a signed / decimal number
 * (blk_-6952295868487656571, -4111..., 3.4111...): not a card. Issuer, length, Luhn and context are checked by rx_card_ok() (redact_card.c). */
#define CARD_PATTERN                                                          \
    "(?<![0-9A-Za-z_.-])[2-6][0-9]{3}(?:[0-9]{9,15}|([ .-])(?:[0-9]{4}\\1[0-9]{4}\\1(?:[0-9]{4}\\1[0-9]{1,3}|[0-9]{1,4})" \
    "|[0-9]{6}\\1[0-9]{4,5}|[0-9]{3}\\1[0-9]{3}\\1[0-9]{3}))"                                         \
    "(?![0-9A-Za-z_]|[._-][0-9A-Za-z])"

static const struct builtin builtins[] = {
    {"kv-secret", NULL, RX_GROUP_ANY, RX_V_NONE, 1, RX_SP_NONE, 0, 0, NULL, NULL},
    {"url-userinfo", "(?<=[A-Za-z0-9])://[^\\s/?#@:\"'<>\\[\\]]*:([^\\s/?#\"'<>]+)@", 1, RX_V_NONE, 1, RX_SP_NONE, 1,
     0, NULL, NULL},
    {"auth-header",
     "(?i)authorization(?:\\\\?[\"'])?[ \\t]*[:=][ \\t]*(?:\\\\?[\"'])?"
     "(?:(?:basic|bearer|token|digest|negotiate|ntlm)[ \\t]+)?([^\\s\"'\\\\,;]+)"
     "|(?<![A-Za-z0-9_-])bearer[ \\t]+(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])([A-Za-z0-9._~+/-]{8,}=*)",
     RX_GROUP_ANY, RX_V_NONE, 1, RX_SP_NONE, 0, 0, NULL, "authorization|bearer"},
    {"jwt", "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*", 0, RX_V_NONE, 1,
     RX_SP_NONE, 0, 0, "eyJ", NULL},
    {"pem-private-key",
     "-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\\z)", 0,
     RX_V_NONE, 1, RX_SP_NONE, 0, 0, "-----BEGIN", NULL},
    {"aws-access-key",
     "(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])", 0,
     RX_V_NONE, 1, RX_SP_NONE, 0, 0, "AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA", NULL},
    {"aws-secret-key",
     "(?i)secret[_-]?(?:access[_-]?)?key(?:\\\\?[\"'])?[ \\t]*[:=][ \\t]*(?:\\\\?[\"'])?([A-Za-z0-9/+]{40})"
     "(?![A-Za-z0-9/+=])"
     "|(?<=(?-i:AKIA|ASIA)[A-Z0-9]{16})[\\s:,;|=\"']{1,3}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
     RX_GROUP_ANY, RX_V_NONE, 1, RX_SP_NONE, 0, 0, "AKIA|ASIA", "secret"},
    {"github-token",
     "(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])", 0, RX_V_NONE,
     1, RX_SP_NONE, 0, 0, "ghp_|gho_|ghu_|ghs_|ghr_|github_pat_", NULL},
    {"gitlab-token",
     "(?<![A-Za-z0-9_-])(?:gl(?:pat|dt|rt|ptt|cbt|oas|soat|imt|ft|agent|ffct)-|GR1348941)[A-Za-z0-9_-]{20,}", 0,
     RX_V_NONE, 1, RX_SP_NONE, 0, 0,
     "glpat-|gldt-|glrt-|glptt-|glcbt-|gloas-|glsoat-|glimt-|glft-|glagent-|glffct-|GR1348941", NULL},
    {"slack-token",
     "(?<![A-Za-z0-9_-])(xox[abposre]-[A-Za-z0-9-]{10,})|(?<![A-Za-z0-9_-])(xapp-[0-9]-[A-Za-z0-9-]{10,})"
     "|hooks\\.slack\\.com/((?:services|workflows|triggers)/[A-Za-z0-9/_-]+)",
     RX_GROUP_ANY, RX_V_NONE, 1, RX_SP_NONE, 0, 0, "xox|xapp-|hooks.slack.com", NULL},
    {"google-api-key", "(?<![A-Za-z0-9_-])(?:AIza[0-9A-Za-z_-]{35}|ya29\\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{28})",
     0, RX_V_NONE, 1, RX_SP_NONE, 0, 0, "AIza|ya29.|GOCSPX-", NULL},
    {"card", CARD_PATTERN, 0, RX_V_CARD, 1, RX_SP_DIGITS, 0, 0, NULL, NULL},
    {"email",
     "(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
     "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
     0, RX_V_NONE, 0, RX_SP_AT, 0, 65, NULL, NULL},
    {"ipv4", "(?<![0-9A-Za-z.])(?:[0-9]{1,3}\\.){3}[0-9]{1,3}(?![0-9A-Za-z]|\\.[0-9])", 0, RX_V_IPV4, 0, RX_SP_DOTTED,
     0, 0, NULL, NULL},
    {"ipv6",
     "(?<![0-9A-Za-z_:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:]{2,39}"
     "(?:(?<=:)[0-9]{1,3}(?:\\.[0-9]{1,3}){3})?(?![0-9A-Za-z_:]|\\.[0-9A-Za-z])",
     0, RX_V_IPV6, 0, RX_SP_COLONS, 0, 0, NULL, NULL},
};

int rx_builtin_count(void) { return (int)(sizeof builtins / sizeof builtins[0]); }

const char *const *rx_default_keys(void) { return default_keys; }

/* append s to the pattern being built, escaping '.' (the only metacharacter a key name may hold) */
static char *append_key(char *p, const char *key) {
    for (; *key; key++) {
        if (*key == '.') *p++ = '\\';
        *p++ = *key;
    }
    return p;
}

/* "(?-i:pwd)|password|..." for the key list */
static char *keys_alternation(char *p, char *const *keys, size_t nkeys) {
    for (size_t i = 0; i < nkeys; i++) {
        if (i > 0) *p++ = '|';
        if (keys[i][0] == '=') {
            memcpy(p, "(?-i:", 5);
            p = append_key(p + 5, keys[i] + 1);
            *p++ = ')';
        } else {
            p = append_key(p, keys[i]);
        }
    }
    return p;
}

/* s, then the key alternation (if keys) */
static char *put_part(char *p, const char *s, char *const *keys, size_t nkeys) {
    memcpy(p, s, strlen(s));
    p += strlen(s);
    return keys != NULL ? keys_alternation(p, keys, nkeys) : p;
}

/* parts[0] KEYS parts[1] KEYS ... parts[nparts-1] */
static char *kv_join(const char *const *parts, size_t nparts, char *const *keys, size_t nkeys) {
    size_t klen = 0, n = 1;
    for (size_t i = 0; i < nkeys; i++) klen += 2 * strlen(keys[i]) + 8;
    for (size_t i = 0; i < nparts; i++) n += strlen(parts[i]) + klen;
    char *pat = malloc(n), *p = pat;
    if (pat == NULL) return NULL;
    for (size_t i = 0; i < nparts; i++) p = put_part(p, parts[i], i + 1 < nparts ? keys : NULL, nkeys);
    *p = '\0';
    return pat;
}

static char *kv_pattern(char *const *keys, size_t nkeys) {
    static const char *const parts[] = {KV_A, KV_B, KV_C, KV_D KV_VALUE};
    return kv_join(parts, sizeof parts / sizeof parts[0], keys, nkeys);
}

/* the XML element and mysql forms: searched from 32 bytes before the first trigger (<prefix_KEY>) */
static char *kv_pattern2(char *const *keys, size_t nkeys) {
    static const char *const parts[] = {KV_XML, KV_XML_END KV_MYSQL};
    return kv_join(parts, sizeof parts / sizeof parts[0], keys, nkeys);
}

/* split "a|b|c" into r->trig (appending), with the given case flag */
static int add_triggers(struct rx_rule *r, const char *list, int nocase) {
    size_t have = 0, add = 1;
    if (list == NULL) return 0;
    while (r->trig != NULL && r->trig[have] != NULL) have++;
    for (const char *c = list; *c; c++) add += (*c == '|');
    char **t = realloc(r->trig, (have + add + 1) * sizeof *t);
    if (t == NULL) return CTX_ENOMEM;
    r->trig = t;
    uint8_t *nc = realloc(r->trig_nocase, have + add + 1);
    if (nc == NULL) return CTX_ENOMEM;
    r->trig_nocase = nc;
    const char *s = list;
    for (size_t i = 0; i < add; i++) {
        const char *e = strchr(s, '|');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        t[have + i] = strndup(s, n);
        t[have + i + 1] = NULL;
        if (t[have + i] == NULL) return CTX_ENOMEM;
        nc[have + i] = (uint8_t)nocase;
        s = e ? e + 1 : s + n;
    }
    return 0;
}

/* kv-secret's triggers are its key names, case-insensitive, without the '=' mark */
static int add_key_triggers(struct rx_rule *r, char *const *keys, size_t nkeys) {
    for (size_t i = 0; i < nkeys; i++) {
        const char *k = keys[i][0] == '=' ? keys[i] + 1 : keys[i];
        if (strlen(k) < 3) {
            free(r->trig);
            r->trig = NULL;
            return 0; /* a key name shorter than a trigram: run the rule on every message */
        }
        int rc = add_triggers(r, k, 1);
        if (rc < 0) return rc;
    }
    return 0;
}

int rx_builtin_fill(int i, struct rx_rule *r, char *const *keys, size_t nkeys) {
    const struct builtin *b = &builtins[i];
    memset(r, 0, sizeof *r);
    r->name = strdup(b->name);
    r->pattern = b->pattern ? strdup(b->pattern) : kv_pattern(keys, nkeys);
    if (r->name == NULL || r->pattern == NULL) return CTX_ENOMEM;
    r->group = b->group;
    r->validator = b->validator;
    r->on = b->on;
    r->builtin = 1;
    r->special = b->special;
    r->need_at = b->need_at;
    r->back = b->back;
    r->mode = RX_REDACT;
    r->mask_keep = 4;
    if (b->pattern == NULL) {
        r->pattern2 = kv_pattern2(keys, nkeys);
        r->back2 = 32;
        if (r->pattern2 == NULL) return CTX_ENOMEM;
        int rc = add_key_triggers(r, keys, nkeys);
        return rc < 0 || r->trig == NULL ? rc : add_triggers(r, "mysql|mariadb", 1); /* -pPASSWORD */
    }
    int rc = add_triggers(r, b->trig_cs, 0);
    return rc < 0 ? rc : add_triggers(r, b->trig_ci, 1);
}

int rx_key_is_secret(const struct ctx_redact_rules *rules, const char *key, size_t len) {
    for (size_t i = 0; i < rules->nkeys; i++) {
        const char *k = rules->keys[i];
        int exact = (k[0] == '=');
        if (exact) k++;
        size_t kl = strlen(k);
        if (kl > len) continue;
        const char *tail = key + len - kl;
        if (exact ? memcmp(tail, k, kl) == 0 : strncasecmp(tail, k, kl) == 0) return 1;
    }
    return 0;
}
