/* jsonpos.h: positions in a JSON text, for error messages that name a line.
 *
 * libfastjson builds objects but keeps no positions, and silently keeps the last of
 * two equal keys. These helpers walk the same text again (after libfastjson
 * accepted it) to find where a member or element is, which line an offset is on,
 * and which keys an object holds. They never recurse, never allocate, never read
 * outside b[0..n), and accept what libfastjson's strict mode accepts (single-quoted
 * keys, any isspace() byte as a blank). On text that is not JSON they stop early
 * (a find fails) instead of misbehaving.
 * Pure functions: thread-safe.
 */
#ifndef CTXLOG_JSONPOS_H
#define CTXLOG_JSONPOS_H

#include <stddef.h>

/* One object member, as text offsets. */
struct ctx_jmember {
    size_t key;     /* the key's opening quote */
    size_t key_end; /* just after the key's closing quote */
    size_t val;     /* the first byte of the value */
};

/* Offset of the first non-blank byte at or after i (n if none). */
size_t ctx_jpos_ws(const char *b, size_t n, size_t i);

/* Offset just after the value that starts at i (no leading blanks). */
size_t ctx_jpos_skip(const char *b, size_t n, size_t i);

/* Iterates an object: *pos starts just after its '{'. Returns 1 and fills *m for
 * each member, 0 after the last one. */
int ctx_jpos_member_next(const char *b, size_t n, size_t *pos, struct ctx_jmember *m);

/* Iterates an array: *pos starts just after its '['. Returns 1 and sets *val to
 * the offset of each element, 0 after the last one. */
int ctx_jpos_elem_next(const char *b, size_t n, size_t *pos, size_t *val);

/* 1 if member m's key is exactly key (compared as written, without unescaping). */
int ctx_jpos_key_is(const char *b, const struct ctx_jmember *m, const char *key);

/* Finds the first member named key of the object at offset obj. Returns 1 / 0. */
int ctx_jpos_find_member(const char *b, size_t n, size_t obj, const char *key, struct ctx_jmember *m);

/* Finds element idx (0-based) of the array at offset arr. Returns 1 / 0. */
int ctx_jpos_find_elem(const char *b, size_t n, size_t arr, long idx, size_t *val);

/* The first key that appears twice in one object, anywhere in the document b[0..n)
 * (libfastjson keeps the last silently). Returns 1 and the offsets of both keys'
 * opening quotes (*first before *second), or 0 if no object repeats a key. Keys are
 * compared as written. O(members^2) per object; no allocation, no recursion. */
int ctx_jpos_dup_key(const char *b, size_t n, size_t *first, size_t *second);

/* 1-based line of offset off (counts '\n' before it). */
unsigned ctx_jpos_line(const char *b, size_t n, size_t off);

/* 1-based column (in bytes) of offset off on its line. */
size_t ctx_jpos_column(const char *b, size_t n, size_t off);

#endif
