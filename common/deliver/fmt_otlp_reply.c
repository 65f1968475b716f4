/* fmt_otlp_reply.c: the body of an OTLP/HTTP export reply (ExportLogsServiceResponse,
 * collector/logs/v1/logs_service.proto), protobuf or JSON: how many records the receiver
 * rejected, and why. The body comes from the network: every length is checked against what
 * is left, unknown fields are skipped as the wire format allows, and the message given back
 * is cut to the caller's buffer with control characters blanked (it goes to a log line).
 *
 * Concurrency: no state.
 */
#include <json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt.h"
#include "fmt_otlp_int.h"

#define REPLY_DEPTH_MAX 16

/* copies n bytes of s to msg (msglen bytes, NUL-terminated), cut at a UTF-8 boundary */
static void copy_msg(char *msg, size_t msglen, const char *s, size_t n) {
    if (msg == NULL || msglen == 0) return;
    if (n > msglen - 1) {
        n = msglen - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--; /* s[n] continues a sequence */
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        msg[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    msg[n] = '\0';
}

/* a varint at *p (< end); 0, or -1 if truncated or longer than 10 bytes */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
    *v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return -1;
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* skips one field of wire type wt; 0 or -1 */
static int skip_field(const unsigned char **p, const unsigned char *end, unsigned wt) {
    uint64_t v;
    size_t left = (size_t)(end - *p);
    switch (wt) {
        case OT_WT_VARINT:
            return get_varint(p, end, &v);
        case OT_WT_I64:
            if (left < 8) return -1;
            *p += 8;
            return 0;
        case OT_WT_I32:
            if (left < 4) return -1;
            *p += 4;
            return 0;
        case OT_WT_LEN:
            if (get_varint(p, end, &v) != 0 || v > (uint64_t)(end - *p)) return -1;
            *p += v;
            return 0;
        default: /* groups (3, 4) are not in this message; 6, 7 do not exist */
            return -1;
    }
}

/* the fields of ExportLogsPartialSuccess in [p, end) */
static int pb_partial(const unsigned char *p, const unsigned char *end, uint64_t *rejected, char *msg,
                      size_t msglen) {
    while (p < end) {
        uint64_t key, v;
        if (get_varint(&p, end, &key) != 0) return CTX_EPARSE;
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (field == OT_PARTIAL_REJECTED && wt == OT_WT_VARINT) {
            if (get_varint(&p, end, &v) != 0 || v > INT64_MAX) return CTX_EPARSE; /* int64: never negative here */
            *rejected = v;
        } else if (field == OT_PARTIAL_ERRMSG && wt == OT_WT_LEN) {
            if (get_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return CTX_EPARSE;
            copy_msg(msg, msglen, (const char *)p, (size_t)v);
            p += v;
        } else if (field == 0 || skip_field(&p, end, wt) != 0) {
            return CTX_EPARSE;
        }
    }
    return 0;
}

static int pb_reply(const unsigned char *p, size_t len, uint64_t *rejected, char *msg, size_t msglen) {
    const unsigned char *end = p + len;
    while (p < end) {
        uint64_t key, v;
        if (get_varint(&p, end, &key) != 0) return CTX_EPARSE;
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (field == OT_RESP_PARTIAL && wt == OT_WT_LEN) {
            if (get_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return CTX_EPARSE;
            int rc = pb_partial(p, p + v, rejected, msg, msglen);
            if (rc != 0) return rc;
            p += v;
        } else if (field == 0 || skip_field(&p, end, wt) != 0) {
            return CTX_EPARSE;
        }
    }
    return 0;
}

/* member of o named by its lowerCamelCase or its proto name (proto3 JSON accepts both) */
static struct fjson_object *member(struct fjson_object *o, const char *camel, const char *proto) {
    struct fjson_object *v = NULL;
    if (fjson_object_object_get_ex(o, camel, &v) && v != NULL) return v;
    if (fjson_object_object_get_ex(o, proto, &v) && v != NULL) return v;
    return NULL;
}

/* an int64 as proto3 JSON writes it: a number or a decimal string; -1 if neither (or < 0) */
static int json_count(struct fjson_object *v, uint64_t *out) {
    if (fjson_object_get_type(v) == fjson_type_int) {
        int64_t i = fjson_object_get_int64(v);
        if (i < 0) return -1;
        *out = (uint64_t)i;
        return 0;
    }
    if (fjson_object_get_type(v) != fjson_type_string) return -1;
    const char *s = fjson_object_get_string(v);
    size_t n = (size_t)fjson_object_get_string_len(v);
    if (n == 0 || n > 19 || strspn(s, "0123456789") != n) return -1;
    *out = strtoull(s, NULL, 10);
    return *out > INT64_MAX ? -1 : 0;
}

static int json_reply(const char *body, size_t len, uint64_t *rejected, char *msg, size_t msglen) {
    size_t n = len;
    while (n > 0 && strchr(" \t\r\n", body[n - 1]) != NULL) n--;
    if (n == 0) return 0;
    if (n > (size_t)INT32_MAX) return CTX_EPARSE;
    struct fjson_tokener *tok = fjson_tokener_new_ex(REPLY_DEPTH_MAX);
    if (tok == NULL) return CTX_ENOMEM;
    struct fjson_object *o = fjson_tokener_parse_ex(tok, body, (int)n);
    int rc = 0;
    if (o == NULL || fjson_tokener_get_error(tok) != fjson_tokener_success || (size_t)tok->char_offset != n ||
        fjson_object_get_type(o) != fjson_type_object) {
        rc = CTX_EPARSE;
    } else {
        struct fjson_object *ps = member(o, "partialSuccess", "partial_success"), *v;
        if (ps != NULL && fjson_object_get_type(ps) != fjson_type_object) rc = CTX_EPARSE;
        if (rc == 0 && ps != NULL && (v = member(ps, "rejectedLogRecords", "rejected_log_records")) != NULL &&
            json_count(v, rejected) != 0)
            rc = CTX_EPARSE;
        if (rc == 0 && ps != NULL && (v = member(ps, "errorMessage", "error_message")) != NULL) {
            if (fjson_object_get_type(v) != fjson_type_string)
                rc = CTX_EPARSE;
            else
                copy_msg(msg, msglen, fjson_object_get_string(v), (size_t)fjson_object_get_string_len(v));
        }
    }
    fjson_object_put(o);
    fjson_tokener_free(tok);
    return rc;
}

int ctx_fmt_otlp_reply(const void *body, size_t len, int json, uint64_t *rejected, char *msg, size_t msglen) {
    if (rejected == NULL || (body == NULL && len > 0)) return CTX_EINVAL;
    *rejected = 0;
    if (msg != NULL && msglen > 0) msg[0] = '\0';
    int rc = json ? json_reply(body, len, rejected, msg, msglen) : pb_reply(body, len, rejected, msg, msglen);
    if (rc != 0) {
        *rejected = 0;
        if (msg != NULL && msglen > 0) msg[0] = '\0';
    }
    return rc;
}
