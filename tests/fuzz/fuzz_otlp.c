/* fuzz_otlp: the OTLP encoder and reply reader (common/deliver/fmt.h, fmt_otlp*.c).
 * Input: the first byte picks what is fuzzed, the rest is the data:
 *   0: a reply body as protobuf, 1: as JSON: CTX_EPARSE or an answer, the message always
 *      NUL-terminated in its buffer;
 *   2..255: records: the data split at 0x00 bytes into message, SD and ctx texts (the ctx
 *      shared by two of three records, a second text at another address): both encodings
 *      succeed, the JSON one parses as one JSON object and is valid UTF-8, the protobuf one
 *      walks as an ExportLogsServiceRequest down to every AnyValue: each field one the
 *      schema has, of its wire type, each length inside its parent, each string UTF-8.
 */
#include <json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt.h"

static int utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
        if (len == 0 || len > n - i) return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
    *v = 0;
    for (unsigned s = 0; s < 64; s += 7) {
        if (*p >= end) return -1;
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* the messages of logs_service.proto / logs.proto / common.proto / resource.proto the
 * encoder writes, and for each field number the wire type and what a LEN field holds */
enum { M_REQ, M_RL, M_RES, M_SL, M_SCOPE, M_LR, M_KV, M_AV, M_ARR, M_KVL, M_COUNT };
enum { F_NONE, F_VARINT, F_I64, F_STR, F_MSG };
typedef struct {
    unsigned char kind, sub; /* F_*; for F_MSG the message M_* */
} field_t;
static const field_t SCHEMA[M_COUNT][12] = {
    [M_REQ] = {[1] = {F_MSG, M_RL}},
    [M_RL] = {[1] = {F_MSG, M_RES}, [2] = {F_MSG, M_SL}},
    [M_RES] = {[1] = {F_MSG, M_KV}},
    [M_SL] = {[1] = {F_MSG, M_SCOPE}, [2] = {F_MSG, M_LR}},
    [M_SCOPE] = {[1] = {F_STR, 0}, [2] = {F_STR, 0}},
    [M_LR] = {[1] = {F_I64, 0}, [2] = {F_VARINT, 0}, [3] = {F_STR, 0}, [5] = {F_MSG, M_AV}, [6] = {F_MSG, M_KV},
              [11] = {F_I64, 0}},
    [M_KV] = {[1] = {F_STR, 0}, [2] = {F_MSG, M_AV}},
    [M_AV] = {[1] = {F_STR, 0}, [2] = {F_VARINT, 0}, [3] = {F_VARINT, 0}, [4] = {F_I64, 0}, [5] = {F_MSG, M_ARR},
              [6] = {F_MSG, M_KVL}},
    [M_ARR] = {[1] = {F_MSG, M_AV}},
    [M_KVL] = {[1] = {F_MSG, M_KV}},
};

/* [p, end) as message m: every field known, of its wire type, every length inside its
 * parent, every string valid UTF-8 (proto3 `string`) */
static int walk(const unsigned char *p, const unsigned char *end, int m) {
    while (p < end) {
        uint64_t k, v;
        if (varint(&p, end, &k) != 0 || (k >> 3) >= 12) return -1;
        field_t f = SCHEMA[m][k >> 3];
        unsigned wt = (unsigned)(k & 7);
        if (f.kind == F_VARINT && wt == 0) {
            if (varint(&p, end, &v) != 0) return -1;
        } else if (f.kind == F_I64 && wt == 1) {
            if (end - p < 8) return -1;
            p += 8;
        } else if ((f.kind == F_STR || f.kind == F_MSG) && wt == 2) {
            if (varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
            if (f.kind == F_STR ? !utf8_ok(p, v) : walk(p, p + v, f.sub) != 0) return -1;
            p += v;
        } else {
            return -1;
        }
    }
    return 0;
}

static void records(const uint8_t *d, size_t n) {
    const char *part[3] = {"", "", ""};
    size_t len[3] = {0, 0, 0}, k = 0, start = 0;
    for (size_t i = 0; i <= n && k < 3; i++)
        if (i == n || d[i] == 0) {
            part[k] = (const char *)d + start, len[k++] = i - start;
            start = i + 1;
        }
    char *copy = malloc(len[2] + 1); /* the same ctx text at another address */
    memcpy(copy, part[2], len[2]);
    ctx_fmt_rec_t r[3];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 3; i++) {
        r[i].facility = (int)(d[0] % 26) - 1, r[i].severity = (int)(d[0] % 10) - 1;
        r[i].time_unix_nano = (uint64_t)d[0] << 56;
        r[i].msg = (ctx_fmt_str_t){part[0], len[0]};
        r[i].sd = (ctx_fmt_str_t){part[1], len[1]};
        r[i].app = r[i].msgid = (ctx_fmt_str_t){part[1], len[1] < 48 ? len[1] : 48};
        r[i].host = (ctx_fmt_str_t){part[0], len[0] < 64 ? len[0] : 64};
        r[i].procid = (ctx_fmt_str_t){part[2], len[2] < 16 ? len[2] : 16};
        r[i].observed_unix_nano = (uint64_t)d[0] << 48 | n;
        r[i].ctx = (ctx_fmt_str_t){i == 1 ? copy : part[2], len[2]};
    }
    ctx_fmt_buf_t b = {0};
    if (ctx_fmt_otlp_encode(r, 3, 0, &b) != 0 || walk(b.buf, b.buf + b.len, M_REQ) != 0) abort();
    /* with working memory kept from every earlier input, as a sealing thread keeps it: the same bytes */
    static ctx_fmt_scratch_t *kept;
    ctx_fmt_buf_t c = {0};
    if (ctx_fmt_otlp_encode_s(r, 3, 0, &c, &kept) != 0 || c.len != b.len || memcmp(c.buf, b.buf, b.len) != 0) abort();
    free(c.buf);
    b.len = 0;
    if (ctx_fmt_otlp_encode(r, 3, 1, &b) != 0 || !utf8_ok(b.buf, b.len)) abort();
    struct fjson_tokener *tok = fjson_tokener_new_ex(64);
    struct fjson_object *o = fjson_tokener_parse_ex(tok, (const char *)b.buf, (int)b.len);
    if (o == NULL || tok->char_offset != (int)b.len || fjson_object_get_type(o) != fjson_type_object) abort();
    fjson_object_put(o);
    fjson_tokener_free(tok);
    free(b.buf);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] >= 2) {
        records(data, size);
        return 0;
    }
    uint64_t rej;
    char msg[32];
    memset(msg, 'x', sizeof(msg));
    int rc = ctx_fmt_otlp_reply(data + 1, size - 1, data[0], &rej, msg, sizeof(msg));
    if ((rc != 0 && rc != CTX_EPARSE) || memchr(msg, 0, sizeof(msg)) == NULL || (rc != 0 && rej != 0)) abort();
    return 0;
}
