/* jsonintern.h: short JSON strings shared by reference instead of made per message.
 *
 * A capture worker gives every message $!ctx!capture, whose string members (the source
 * and destination address, the protocol) are the same for every packet of a flow. An
 * intern table maps such a text to one libfastjson string object; each message gets a
 * reference (fjson_object_get) instead of a new object: one allocation and one free
 * fewer a member a message, in the capture thread and in whichever thread frees the
 * message (issue 12: nothing per message that only changes per flow).
 *
 * Why strings only: libfastjson returns a string's own text from
 * fjson_object_get_string() without writing anything, so a shared string can be read by
 * any thread (a template naming it, a filter comparing it), and serialized inside any
 * parent. A number would print itself into its own buffer when read on its own: not
 * shareable (see jsonfreeze.h).
 *
 * The table is direct-mapped: a text that hashes to an occupied slot replaces its
 * occupant (whose object lives on in the messages that hold it). Texts of
 * CTX_JSON_INTERN_MAXLEN bytes or more are not interned: the caller gets a new object.
 *
 * Concurrency: a table belongs to one thread; the objects it hands out may be read, held
 * and released by any thread (reference counts are atomic in Debian's libfastjson).
 */
#ifndef CTXLOG_JSONINTERN_H
#define CTXLOG_JSONINTERN_H

#include <json.h>
#include <stddef.h>

#define CTX_JSON_INTERN_MAXLEN 48

typedef struct ctx_json_intern ctx_json_intern_t;

/* a table of `slots` entries (a power of two, 1..65536); NULL if out of memory or slots
 * is not a power of two in range */
ctx_json_intern_t *ctx_json_intern_new(size_t slots);
/* drops the table's references (objects held by messages stay valid); NULL is a no-op */
void ctx_json_intern_free(ctx_json_intern_t *t);

/* a new reference to a string object with text s (NUL-terminated); shared with earlier
 * calls for the same text while it stays in the table. NULL only when out of memory. */
struct fjson_object *ctx_json_intern_str(ctx_json_intern_t *t, const char *s);

/* lookups that found the text in the table, and all lookups (for tests and counters) */
void ctx_json_intern_stats(const ctx_json_intern_t *t, unsigned long long *hits, unsigned long long *lookups);

#endif
