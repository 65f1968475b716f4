/* redact.h: the redaction engine. Secrets are replaced before a message leaves the host.
 *
 * Three objects:
 *  - ctx_redact_rules: the compiled rules (built-in rules, the secret key list, custom rules, the
 *    HMAC key, per-tenant views). Built once by ctx_redact_rules_new() or _load_file(), immutable
 *    afterwards, shared read-only by every worker thread. A reload builds a new one and swaps it.
 *  - ctx_redact_set: the view of the rules that applies to one tenant (which rules are on, and the
 *    replacement mode of each). Borrowed from its rules object; never freed by the caller.
 *  - ctx_redact_ctx: per-thread scratch (PCRE2 match data, output buffer, HMAC context) and the
 *    per-rule match counters. One per worker thread; never shared between threads at the same time.
 *    Bound to one rules object: after a reload, free it and create a new one.
 *
 * Rules are numbered 0 .. ctx_redact_rules_count()-1 (built-ins first, in the documented order,
 * then custom rules in file order); the number indexes the counter array. docs/redaction.md lists
 * every built-in rule, the rules-file format and every error message.
 */
#ifndef CTXLOG_REDACT_H
#define CTXLOG_REDACT_H

#include <stddef.h>
#include <stdint.h>

struct fjson_object;

typedef struct ctx_redact_rules ctx_redact_rules;
typedef struct ctx_redact_set ctx_redact_set;
typedef struct ctx_redact_ctx ctx_redact_ctx;

/* Warning flags returned by ctx_redact_rules_warnings() */
#define CTX_REDACT_WARN_KEY_WORLD_READABLE 0x1u /* the HMAC key file is readable beyond its owner (secretfile.h) */

/* Build the default rules: the built-in rules with their default switches, no custom rule, no
 * HMAC key. Returns 0 and sets *out, or a negative CTX_E* code (err says why). */
int ctx_redact_rules_new(ctx_redact_rules **out, char *err, size_t errlen);

/* Load and compile a rules file (format: docs/redaction.md). rules_path may be NULL (defaults only).
 * key_path, if not NULL, is the HMAC key file and overrides the file's `key_file`.
 * Every problem is reported as one line "FILE:LINE: what, expected what" (or "key file PATH: ...")
 * in err; returns CTX_EPARSE for a bad file, CTX_EIO if a file cannot be read, CTX_ENOMEM.
 * Thread-safe (touches no global state). */
int ctx_redact_rules_load_file(ctx_redact_rules **out, const char *rules_path, const char *key_path, char *err,
                               size_t errlen);

/* The same from a string in memory; `name` is used as FILE in error messages. */
int ctx_redact_rules_load_string(ctx_redact_rules **out, const char *text, size_t len, const char *name,
                                 const char *key_path, char *err, size_t errlen);

/* Free the rules. NULL is a no-op. Every ctx and set made from it must be gone first. */
void ctx_redact_rules_free(ctx_redact_rules *rules);

/* Number of rules (built-in and custom, enabled or not); indexes the counter array. */
int ctx_redact_rules_count(const ctx_redact_rules *rules);

/* Name of rule i (borrowed, lives as long as rules), or NULL if i is out of range. */
const char *ctx_redact_rules_name(const ctx_redact_rules *rules, int i);

/* Rule number of `name`, or CTX_ENOENT. */
int ctx_redact_rules_find(const ctx_redact_rules *rules, const char *name);

/* CTX_REDACT_WARN_* flags found at load time; when msg is not NULL it receives one line describing
 * them ("" when there is none), for the module to log. */
unsigned ctx_redact_rules_warnings(const ctx_redact_rules *rules, char *msg, size_t msglen);

/* The set that applies to `tenant`: the tenant's own view if the rules file names it (a [tenant]
 * section or a rule's `tenants`), else the global view. tenant NULL gives the global view.
 * Never returns NULL for non-NULL rules. Borrowed from rules; thread-safe (read-only lookup). */
const ctx_redact_set *ctx_redact_for_tenant(const ctx_redact_rules *rules, const char *tenant);

/* Whether the rules define a view named `tenant` (a [tenant] section or a rule's `tenants`): 1 or 0.
 * A tenant whose configuration names a view that does not exist gets the global view. */
int ctx_redact_has_view(const ctx_redact_rules *rules, const char *tenant);

/* Whether rule i is on in this set (1) or not (0). */
int ctx_redact_set_enabled(const ctx_redact_set *set, int i);

/* Per-thread context. rules is borrowed and must outlive the ctx. NULL on allocation failure. */
ctx_redact_ctx *ctx_redact_ctx_new(const ctx_redact_rules *rules);
void ctx_redact_ctx_free(ctx_redact_ctx *ctx);

/* Redact `in` (len bytes, need not be NUL-terminated) with the rules of `set`.
 * The rules also run on the decoded view of the text when it holds `%XX` or `\u00XX` escapes (what a
 * receiver that URL- or JSON-decodes reads); a match there replaces the original bytes it came from.
 * Returns 0 if nothing changed: *out = in, *outlen = len, nothing was allocated.
 * Returns 1 if the text changed: *out points into ctx's buffer (NUL-terminated, *outlen bytes),
 * valid until the next call on this ctx. Text changes when a rule matched or, with the default
 * `invalid_utf8 = replace`, when invalid UTF-8 was replaced by U+FFFD; the output is then valid
 * UTF-8 whenever that option is on.
 * If a regex fails at run time (match limit), the whole text becomes "[REDACTED:match-error]"
 * (fail closed) and the ctx's error counter grows; returns 1.
 * Returns CTX_ENOMEM (out = NULL: do not send the original) or CTX_EINVAL (bad argument, or set
 * from other rules than ctx). Must not be called concurrently on the same ctx. */
int ctx_redact_apply(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len, const char **out,
                     size_t *outlen);

/* The same for a text that was cut (at maxMessageSize, a snap length, a TCP gap): in addition, a tail
 * that could be the start of a secret whose end was cut off (a partial match of any active rule,
 * at least 4 bytes) is replaced from the start of that candidate to the end, under the rule's name
 * (docs/redaction.md, "Cut messages"). */
int ctx_redact_apply_cut(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len,
                         const char **out, size_t *outlen);

/* Redact, in place, every string value of a libfastjson tree (objects and arrays, recursively), and
 * replace whole the value (string, number or boolean) of any member whose key is a secret key name
 * (rule kv-secret, if on). Keys are not changed. The tree stays valid JSON; strings stay valid UTF-8
 * with `invalid_utf8 = replace`. Returns the number of values replaced, CTX_ENOMEM, or CTX_EINVAL
 * (nesting deeper than 64: the tree may be partly redacted, do not send it). */
int ctx_redact_json(ctx_redact_ctx *ctx, const ctx_redact_set *set, struct fjson_object *root);

/* Redact RFC 5424 STRUCTURED-DATA text ("-" or "[id k=\"v\" ...]..."): each PARAM-VALUE is redacted
 * as text (and whole if its PARAM-NAME is a secret key name); replacements are escaped so the
 * output is valid STRUCTURED-DATA. Malformed input is redacted as plain text (fail closed).
 * Return values and *out lifetime as for ctx_redact_apply (separate buffer: the result of the last
 * ctx_redact_apply stays valid). */
int ctx_redact_sd(ctx_redact_ctx *ctx, const ctx_redact_set *set, const char *in, size_t len, const char **out,
                  size_t *outlen);

/* Per-rule match counts since the ctx was made or last taken (array of ctx_redact_rules_count()
 * plain uint64_t, owned by ctx, per thread: read it only from the thread that uses the ctx). */
const uint64_t *ctx_redact_ctx_counters(const ctx_redact_ctx *ctx);

/* Add the counts into dst[0 .. count-1] and zero them; returns the number of regex run-time
 * errors since the last take (and zeroes it). For a module: call after each batch on the worker
 * thread and add dst into its impstats counters. */
uint64_t ctx_redact_ctx_take_counters(ctx_redact_ctx *ctx, uint64_t *dst);

/* The per-rule counts and the run-time error count, saved into dst[0 .. count] (count + 1 values)
 * and put back from such a copy: a caller that redacts a part again another way (omtenant's record
 * builder when it falls back from the per-member path) undoes what the first try counted. */
void ctx_redact_ctx_save_counters(const ctx_redact_ctx *ctx, uint64_t *dst);
void ctx_redact_ctx_restore_counters(ctx_redact_ctx *ctx, const uint64_t *src);

/* Adds add[0 .. count-1] to the per-rule counts (unless counting is off): the replay of the matches
 * of a redaction remembered by the caller (the record builder's memo), so each record still counts. */
void ctx_redact_ctx_add_counts(ctx_redact_ctx *ctx, const uint32_t *add);

/* on = 0: matches and run-time errors are not counted until on = 1 again (a trial run
 * whose matches are counted by the real one, e.g. outrec_json_clean's scan) */
void ctx_redact_ctx_set_counting(ctx_redact_ctx *ctx, int on);

/* 1 if s (len bytes) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF), else 0. */
int ctx_redact_utf8_valid(const char *s, size_t len);

#endif
