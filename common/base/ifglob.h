/* ifglob.h: validated glob patterns for Linux network interface names.
 *
 * A pattern is an interface name (`vnet3`) or a glob with fnmatch(3) semantics
 * (flags 0, no FNM_PATHNAME / FNM_PERIOD): `*` any run of characters, `?` one
 * character, `[abc]` `[a-z]` `[!0-9]` `[^0-9]` one character of / not of a set
 * (a `]` right after `[`, `[!` or `[^` is a member; a `-` first or last is a member).
 * Patterns are checked when loaded, so that a bad one is a configuration error
 * with a reason instead of a pattern that silently never matches:
 *   - not empty, at most CTX_IFGLOB_MAXLEN bytes;
 *   - only printable ASCII that Linux accepts in a name: no space or control
 *     character, no '/', ':' (the kernel refuses them) and no '\\' (escapes are not
 *     supported: no interface name needs one);
 *   - every '[' closed, no empty set, no reversed range (`[z-a]`), no '[' inside a
 *     set (so no `[:digit:]` classes: write `[0-9]`);
 *   - able to match some name of 1..15 bytes (IFNAMSIZ - 1): a pattern whose fixed
 *     part is longer can never match; "." and ".." are not names.
 * Matching is done by this unit (not libc's fnmatch, which may allocate under a
 * multibyte locale): no allocation, no locale, plain byte comparison.
 */
#ifndef CTXLOG_IFGLOB_H
#define CTXLOG_IFGLOB_H

#include <stddef.h>

#define CTX_IFNAME_MAXLEN 15   /* IFNAMSIZ - 1: longest Linux interface name */
#define CTX_IFGLOB_MAXLEN 64   /* longest pattern accepted */
#define CTX_IFGLOB_MAXCOUNT 1000000 /* most patterns in one list */

/* A compiled, immutable list of patterns (opaque). Any number of threads may call
 * ctx_ifglob_match() and the accessors on one list at the same time. */
typedef struct ctx_ifglob ctx_ifglob_t;

/* Checks one pattern (borrowed, NUL-terminated).
 * Returns 0 if it is a plain interface name (no wildcard), 1 if it is a valid glob,
 * CTX_EINVAL if invalid: reason (if not NULL) then holds why, without the pattern
 * itself, e.g. "'[' at offset 3 is not closed" (the caller names the pattern). */
int ctx_ifglob_check(const char *pattern, char *reason, size_t reasonlen);

/* Matches one pattern that ctx_ifglob_check() accepted against a name (both
 * borrowed). Returns 1 on a match, 0 otherwise. For an unchecked pattern the
 * result is unspecified (but memory-safe for any NUL-terminated input). */
int ctx_ifglob_match_one(const char *pattern, const char *name);

/* Compiles a comma-separated list ("vnet*, tap*,veth?"); blanks around each item
 * are ignored; an empty item is an error. On success *out is a new list (free with
 * ctx_ifglob_free) and 0 is returned. On failure *out is NULL and err holds one
 * line: `pattern 2 "tap[3": '[' at offset 3 is not closed`; returns CTX_EINVAL
 * (bad pattern or list) or CTX_ENOMEM. */
int ctx_ifglob_new_csv(const char *list, ctx_ifglob_t **out, char *err, size_t errlen);

/* Same from an array of n patterns (borrowed; copied). n may be 0 (a list that
 * matches nothing). Errors as for ctx_ifglob_new_csv(). */
int ctx_ifglob_new_array(const char *const *patterns, size_t n, ctx_ifglob_t **out, char *err, size_t errlen);

/* Frees a list; NULL is a no-op. */
void ctx_ifglob_free(ctx_ifglob_t *g);

/* Returns the index (0-based, in list order) of the first pattern that matches
 * name, or CTX_ENOENT if none does (also for a NULL name or list). Exact names are
 * plain strcmp; globs are rejected early on their literal prefix. No allocation. */
int ctx_ifglob_match(const ctx_ifglob_t *g, const char *name);

/* Number of patterns in the list (0 for NULL). */
size_t ctx_ifglob_count(const ctx_ifglob_t *g);

/* Pattern i as given (trimmed), or NULL if i is out of range. Owned by the list. */
const char *ctx_ifglob_pattern(const ctx_ifglob_t *g, size_t i);

/* 1 if pattern i has no wildcard (an exact name), 0 if it is a glob or i is out of range. */
int ctx_ifglob_is_literal(const ctx_ifglob_t *g, size_t i);

#endif
