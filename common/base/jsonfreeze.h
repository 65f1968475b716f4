/* jsonfreeze.h: immutable, pre-rendered libfastjson subtrees, shared by many messages.
 *
 * A context group ($!ctx!cm, $!ctx!host) is the same for every message of a VM until
 * it changes (once per TTL or sample). mmctxenrich builds it once, freezes it, and
 * attaches a reference (fjson_object_get) to each message instead of a new tree.
 *
 * ctx_json_freeze(o) renders o once as libfastjson's default ("spaced") text, keeps
 * that text in the object's own print buffer, and installs a serializer that copies
 * the text when o is serialized inside another object (a message's $!ctx, or the whole
 * $!): rsyslog's `%$!ctx%` then costs a memcpy per frozen group instead of walking and
 * formatting every field. Other flags (plain, pretty) fall back to libfastjson's own
 * serializer, which only reads the tree.
 *
 * Contract for a frozen object (the caller's to keep):
 *  - it is never changed again (no add, delete or set under it); share it only by
 *    reference (fjson_object_get / _put, atomic in Debian's libfastjson);
 *  - it is never serialized on its own (fjson_object_to_json_string* with the frozen
 *    object itself as the argument) while another thread may use it: libfastjson
 *    writes that result into the object's print buffer (the one holding the text).
 *    Serialized as a member of another object, it is safe from any number of threads.
 *    (rsyslog serializes a JSON property on its own when a template or property
 *    filter names it, e.g. %$!ctx!host%: mmctxenrich does not share a group that a
 *    template names below $!ctx.)
 *
 * Relies on the layout of Debian 12's libfastjson 1.2304 (json_object_private.h, and
 * struct printbuf {char *buf; int bpos; int size;}, checked in its disassembly).
 */
#ifndef CTXLOG_JSONFREEZE_H
#define CTXLOG_JSONFREEZE_H

#include <json.h>

/* Freezes o (an object or array, fresh and not yet shared). Returns 0, CTX_EINVAL
 * (NULL or a scalar: scalars need no freezing) or CTX_ENOMEM (o is then unchanged). */
int ctx_json_freeze(struct fjson_object *o);

/* 1 if o was frozen by ctx_json_freeze, in this module or another one (every module
 * links its own copy of this file), else 0. (An object or array whose serializer is not
 * libfastjson's default counts as frozen: nothing in rsyslog sets another.) */
int ctx_json_is_frozen(const struct fjson_object *o);

/* the frozen text of o and its length, or NULL if o is not frozen */
const char *ctx_json_frozen_text(const struct fjson_object *o, size_t *len);

#endif
