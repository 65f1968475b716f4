/* fmt_otlp_int.h: what the units of the OTLP encoder share (fmt_otlp*.c): the protobuf field
 * numbers, and a writer that emits the same structure as protobuf or as OTLP/JSON.
 *
 * The writer keeps a sticky error: once an append fails (CTX_ENOMEM) every later call does
 * nothing and err stays set, so the encoders check it once at the end.
 *
 * JSON lists and objects are written with a leading ',' before every element; ot_jlist_close()
 * turns the first ',' into '[' (or writes "[]"), so no writer needs to know whether it is first.
 */
#ifndef CTXLOG_FMT_OTLP_INT_H
#define CTXLOG_FMT_OTLP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"

/* Protobuf field numbers, from third_party/opentelemetry-proto (opentelemetry-proto
 * v1.11.0-16, commit ac2c4b5d). Each line names the .proto file and line of the field. */
enum {
    OT_REQ_RESOURCE_LOGS = 1,   /* collector/logs/v1/logs_service.proto:40 ExportLogsServiceRequest.resource_logs */
    OT_RESP_PARTIAL = 1,        /* collector/logs/v1/logs_service.proto:59 ExportLogsServiceResponse.partial_success */
    OT_PARTIAL_REJECTED = 1,    /* collector/logs/v1/logs_service.proto:67 ExportLogsPartialSuccess.rejected_log_records */
    OT_PARTIAL_ERRMSG = 2,      /* collector/logs/v1/logs_service.proto:76 ExportLogsPartialSuccess.error_message */
    OT_RL_RESOURCE = 1,         /* logs/v1/logs.proto:53 ResourceLogs.resource */
    OT_RL_SCOPE_LOGS = 2,       /* logs/v1/logs.proto:56 ResourceLogs.scope_logs */
    OT_SL_SCOPE = 1,            /* logs/v1/logs.proto:72 ScopeLogs.scope */
    OT_SL_LOG_RECORDS = 2,      /* logs/v1/logs.proto:75 ScopeLogs.log_records */
    OT_LR_TIME = 1,             /* logs/v1/logs.proto:142 LogRecord.time_unix_nano (fixed64) */
    OT_LR_SEVERITY_NUMBER = 2,  /* logs/v1/logs.proto:163 LogRecord.severity_number (enum) */
    OT_LR_SEVERITY_TEXT = 3,    /* logs/v1/logs.proto:167 LogRecord.severity_text */
    OT_LR_BODY = 5,             /* logs/v1/logs.proto:172 LogRecord.body (AnyValue) */
    OT_LR_ATTRIBUTES = 6,       /* logs/v1/logs.proto:178 LogRecord.attributes (KeyValue) */
    OT_LR_OBSERVED_TIME = 11,   /* logs/v1/logs.proto:159 LogRecord.observed_time_unix_nano (fixed64) */
    OT_RES_ATTRIBUTES = 1,      /* resource/v1/resource.proto:33 Resource.attributes (KeyValue) */
    OT_SCOPE_NAME = 1,          /* common/v1/common.proto:104 InstrumentationScope.name */
    OT_SCOPE_VERSION = 2,       /* common/v1/common.proto:108 InstrumentationScope.version */
    OT_AV_STRING = 1,           /* common/v1/common.proto:32 AnyValue.string_value */
    OT_AV_BOOL = 2,             /* common/v1/common.proto:33 AnyValue.bool_value */
    OT_AV_INT = 3,              /* common/v1/common.proto:34 AnyValue.int_value (int64) */
    OT_AV_DOUBLE = 4,           /* common/v1/common.proto:35 AnyValue.double_value */
    OT_AV_ARRAY = 5,            /* common/v1/common.proto:36 AnyValue.array_value */
    OT_AV_KVLIST = 6,           /* common/v1/common.proto:37 AnyValue.kvlist_value */
    OT_ARRAY_VALUES = 1,        /* common/v1/common.proto:57 ArrayValue.values (AnyValue) */
    OT_KVLIST_VALUES = 1,       /* common/v1/common.proto:72 KeyValueList.values (KeyValue) */
    OT_KV_KEY = 1,              /* common/v1/common.proto:80 KeyValue.key */
    OT_KV_VALUE = 2             /* common/v1/common.proto:83 KeyValue.value (AnyValue) */
};

/* protobuf wire types */
enum { OT_WT_VARINT = 0, OT_WT_I64 = 1, OT_WT_LEN = 2, OT_WT_I32 = 5 };

typedef struct {
    ctx_fmt_buf_t *b; /* borrowed: where everything is appended */
    int json;         /* 1: OTLP/JSON, 0: protobuf */
    int err;          /* 0, or the first error (CTX_ENOMEM); sticky */
} ot_w_t;

/* a KeyValue (or an array element) being written: positions for the close */
typedef struct {
    size_t kv, av;
} ot_mark_t;

/* ---- raw bytes and protobuf primitives (fmt_otlp_wire.c) */
void ot_raw_grow(ot_w_t *w, const void *p, size_t n);
static inline void ot_raw(ot_w_t *w, const void *p, size_t n) { /* the common case inline: it fits */
    ctx_fmt_buf_t *b = w->b;
    if (n == 0) return;
    if (b->buf != NULL && b->cap - b->len >= n && w->err == 0) {
        memcpy(b->buf + b->len, p, n);
        b->len += n;
        return;
    }
    ot_raw_grow(w, p, n);
}
void ot_lit(ot_w_t *w, const char *s);
void ot_pb_key(ot_w_t *w, unsigned field, unsigned wt);
void ot_pb_varint(ot_w_t *w, uint64_t v);
void ot_pb_fixed64(ot_w_t *w, unsigned field, uint64_t v);
void ot_pb_str(ot_w_t *w, unsigned field, const char *p, size_t n); /* invalid UTF-8 becomes U+FFFD */
void ot_pb_anystr(ot_w_t *w, unsigned field, const char *p, size_t n); /* an AnyValue with string_value */
size_t ot_pb_open(ot_w_t *w, unsigned field);                       /* a length-delimited field */
void ot_pb_close(ot_w_t *w, size_t mark);
/* the same with two bytes reserved for the length: for messages usually 128..16383 bytes long */
size_t ot_pb_open2(ot_w_t *w, unsigned field);
void ot_pb_close2(ot_w_t *w, size_t mark);

/* ---- JSON primitives */
void ot_js_str(ot_w_t *w, const char *p, size_t n); /* quoted, escaped; invalid UTF-8 becomes U+FFFD */
void ot_js_u64(ot_w_t *w, uint64_t v);              /* unquoted decimal */
size_t ot_jlist_open(ot_w_t *w);
void ot_jlist_close(ot_w_t *w, size_t mark);

/* ---- KeyValue and AnyValue, both encodings. kv_begin starts a KeyValue, element of the
 * repeated field `field` of its parent (ignored in JSON), and its AnyValue; one av_* writes
 * the value; kv_end closes both. */
ot_mark_t ot_kv_begin(ot_w_t *w, unsigned field, const char *k, size_t kn);
void ot_kv_end(ot_w_t *w, ot_mark_t m);
void ot_av_str(ot_w_t *w, const char *p, size_t n);
void ot_av_int(ot_w_t *w, int64_t v);
void ot_av_double(ot_w_t *w, double v);
void ot_av_bool(ot_w_t *w, int v);
size_t ot_av_kvlist_open(ot_w_t *w); /* then kv_begin(w, OT_KVLIST_VALUES, ...) for each member */
void ot_av_kvlist_close(ot_w_t *w, size_t mark);
size_t ot_av_array_open(ot_w_t *w); /* then elem_begin / av_* / elem_end for each element */
void ot_av_array_close(ot_w_t *w, size_t mark);
size_t ot_elem_begin(ot_w_t *w);
void ot_elem_end(ot_w_t *w, size_t mark);
/* shorthand: a KeyValue with a string / int value */
void ot_kv_str(ot_w_t *w, unsigned field, const char *k, const char *v, size_t vn);
void ot_kv_int(ot_w_t *w, unsigned field, const char *k, int64_t v);
/* ot_kv_str with a key known to be ASCII of kn bytes (the encoder's own keys: not checked) */
void ot_kv_str_ascii(ot_w_t *w, unsigned field, const char *k, size_t kn, const char *v, size_t vn);
#define OT_KV_STR_LIT(w, field, lit, v, vn) ot_kv_str_ascii((w), (field), lit, sizeof(lit) - 1, (v), (vn))

/* ---- the $!ctx text of a record as attributes (fmt_otlp_ctx.c). Appends to w the resource
 * attributes (KeyValue elements of field res_field) and to m the per-message ones (field
 * OT_LR_ATTRIBUTES); m->json must equal w->json. Returns 0 or CTX_ENOMEM. */
int ot_ctx_attrs(const char *ctx, size_t n, ot_w_t *w, unsigned res_field, ot_w_t *m);

/* ---- RFC 5424 STRUCTURED-DATA as a LogRecord attribute (fmt_otlp_sd.c) */
void ot_sd_attr(ot_w_t *w, const char *sd, size_t n);

#endif
