/* test_fmt_otlp.c: the OTLP encoder and reply reader (fmt.h, fmt_otlp*.c) under ASan/UBSan:
 * grouping by context (by address and by content, per-message members not splitting a VM; the
 * VM's address, MAC, vNIC and tags as resource attributes, host.ip / host.mac by the convention),
 * order, escaping and UTF-8 repair, empty fields, a large interleaved batch (protobuf walked
 * field by field: every length must match), arguments; hostile reply bodies (every prefix,
 * every byte flipped, random bytes, wrong JSON types, deep nesting). tests/unit/
 * fmt_otlp_decode.sh checks the same output against the official protos. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "check.h"
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "fmt.h"

#define CTX_A "{\"vm\":{\"name\":\"vm-a\",\"uuid\":\"u-a\",\"tenant\":\"acme\"},\"cm\":{\"vcpus\":2}}"
#define CTX_B "{\"vm\":{\"name\":\"vm-b\",\"uuid\":\"u-b\",\"tenant\":\"acme\"}}"
#define CTX_C "{\"vm\":{\"name\":\"vm-c\"},\"host\":{\"load1\":0.5}}"

static ctx_fmt_str_t S(const char *s) {
    ctx_fmt_str_t r = {s, strlen(s)};
    return r;
}

static ctx_fmt_rec_t rec(const char *msg, const char *ctx) {
    ctx_fmt_rec_t r = {.time_unix_nano = 1000, .observed_unix_nano = 2000, .facility = 1, .severity = 6};
    r.app = S("app"), r.msg = S(msg), r.ctx = S(ctx);
    return r;
}

/* ---- a protobuf walker: the bodies of each ResourceLogs, in order; -1 on any malformation */
typedef struct {
    const unsigned char *p, *end;
} rd_t;

static int rd_varint(rd_t *r, uint64_t *v) {
    *v = 0;
    for (unsigned s = 0; s < 64; s += 7) {
        if (r->p >= r->end) return -1;
        unsigned char c = *r->p++;
        *v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}

/* next field: number, and for LEN fields the sub-range; others skipped */
static int rd_next(rd_t *r, unsigned *field, rd_t *sub) {
    uint64_t k, v;
    if (rd_varint(r, &k) != 0) return -1;
    *field = (unsigned)(k >> 3);
    switch (k & 7) {
        case 0: return rd_varint(r, &v);
        case 1: if (r->end - r->p < 8) return -1; r->p += 8; return 0;
        case 5: if (r->end - r->p < 4) return -1; r->p += 4; return 0;
        case 2:
            if (rd_varint(r, &v) != 0 || v > (uint64_t)(r->end - r->p)) return -1;
            sub->p = r->p, sub->end = r->p + v, r->p += v;
            return 0;
        default: return -1;
    }
}

/* appends "body|" per record and "#" after each ResourceLogs to out; number of records or -1 */
static int walk(const unsigned char *buf, size_t len, char *out, size_t outlen) {
    rd_t req = {buf, buf + len}, rl, sl, lr, av, x;
    unsigned f;
    int n = 0;
    out[0] = '\0';
    while (req.p < req.end) {
        if (rd_next(&req, &f, &rl) != 0 || f != 1) return -1;
        while (rl.p < rl.end) {
            if (rd_next(&rl, &f, &sl) != 0) return -1;
            if (f != 2) continue;
            while (sl.p < sl.end) {
                if (rd_next(&sl, &f, &lr) != 0) return -1;
                if (f != 2) continue;
                n++;
                while (lr.p < lr.end) {
                    if (rd_next(&lr, &f, &av) != 0) return -1;
                    if (f != 5) continue;
                    if (rd_next(&av, &f, &x) != 0 || f != 1) return -1;
                    if (strlen(out) + (size_t)(x.end - x.p) + 2 >= outlen) return -1;
                    strncat(out, (const char *)x.p, (size_t)(x.end - x.p));
                    strcat(out, "|");
                }
            }
        }
        strcat(out, "#");
    }
    return n;
}

static struct fjson_object *encode_json(const ctx_fmt_rec_t *r, size_t n) {
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_otlp_encode(r, n, 1, &b), 0);
    struct fjson_tokener *tok = fjson_tokener_new();
    struct fjson_object *o = fjson_tokener_parse_ex(tok, (const char *)b.buf, (int)b.len);
    assert_non_null(o);
    assert_int_equal(tok->char_offset, (int)b.len);
    fjson_tokener_free(tok);
    free(b.buf);
    return o;
}

static struct fjson_object *path(struct fjson_object *o, const char *const *keys) {
    for (; *keys != NULL; keys++) {
        if (**keys >= '0' && **keys <= '9')
            o = fjson_object_array_get_idx(o, atoi(*keys));
        else if (!fjson_object_object_get_ex(o, *keys, &o))
            return NULL;
        if (o == NULL) return NULL;
    }
    return o;
}
#define P(o, ...) path(o, (const char *const[]){__VA_ARGS__, NULL})

static void grouping_and_order(void **state) {
    (void)state;
    char copy_a[] = CTX_A; /* the same text at another address */
    ctx_fmt_rec_t r[6] = {rec("0", CTX_A), rec("1", CTX_B), rec("2", copy_a), rec("3", CTX_C), rec("4", CTX_B),
                          rec("5", CTX_A)};
    ctx_fmt_buf_t b = {0};
    char bodies[256];
    assert_int_equal(ctx_fmt_otlp_encode(r, 6, 0, &b), 0);
    assert_int_equal(walk(b.buf, b.len, bodies, sizeof(bodies)), 6);
    assert_string_equal(bodies, "0|2|5|#1|4|#3|#");
    free(b.buf);
    struct fjson_object *o = encode_json(r, 6);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs")), 3);
    assert_string_equal(fjson_object_get_string(P(o, "resourceLogs", "1", "resource", "attributes", "0", "value",
                                                  "stringValue")),
                        "vm-b");
    assert_string_equal(fjson_object_get_string(P(o, "resourceLogs", "0", "scopeLogs", "0", "scope", "name")),
                        "ctxlog");
    assert_string_equal(fjson_object_get_string(P(o, "resourceLogs", "0", "scopeLogs", "0", "logRecords", "1",
                                                  "body", "stringValue")),
                        "2");
    fjson_object_put(o);
}

static void per_message_members_share_the_resource(void **state) {
    (void)state;
    const char *c1 = "{\"vm\":{\"name\":\"vm-a\",\"process\":{\"app\":\"sshd\"}},\"capture\":{\"sport\":1}}";
    const char *c2 = "{\"vm\":{\"name\":\"vm-a\",\"process\":{\"app\":\"cron\"}},\"capture\":{\"sport\":2}}";
    ctx_fmt_rec_t r[2] = {rec("a", c1), rec("b", c2)};
    struct fjson_object *o = encode_json(r, 2);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs")), 1);
    struct fjson_object *recs = P(o, "resourceLogs", "0", "scopeLogs", "0", "logRecords");
    assert_int_equal(fjson_object_array_length(recs), 2);
    /* attributes: syslog.appname, syslog.facility, then the per-message members */
    assert_string_equal(fjson_object_get_string(P(recs, "1", "attributes", "2", "key")), "ctxlog.vm.process.app");
    assert_string_equal(fjson_object_get_string(P(recs, "1", "attributes", "2", "value", "stringValue")), "cron");
    assert_string_equal(fjson_object_get_string(P(recs, "1", "attributes", "3", "key")), "ctxlog.capture.sport");
    assert_string_equal(fjson_object_get_string(P(recs, "1", "attributes", "3", "value", "intValue")), "2");
    assert_int_equal(fjson_object_array_length(P(recs, "0", "attributes")), 4);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs", "0", "resource", "attributes")), 1);
    fjson_object_put(o);
}

/* the VM's address, MAC, vNIC and how it was found, and the policy's tags, are the resource's:
 * a record carries none of them; another vNIC or other tags are another resource; a spoofed
 * packet's address and MAC are not host.ip / host.mac */
#define NET(ip, mac, vnic, tags)                                                                               \
    "{\"vm\":{\"name\":\"vm-a\",\"ip\":\"" ip "\",\"mac\":\"" mac "\",\"vnic\":\"" vnic "\",\"match\":\"vnic\"}" tags "}"
static void source_members_are_resource_attributes(void **state) {
    (void)state;
    ctx_fmt_rec_t r[6] = {
        rec("0", NET("10.0.0.2", "52:54:00:c7:00:0b", "vnet1", ",\"tags\":{\"team\":\"pay\"}")),
        rec("1", NET("10.0.0.2", "52:54:00:c7:00:0b", "vnet1", ",\"tags\":{\"team\":\"pay\"}")),
        rec("2", NET("fd00::2", "52-54-00-C7-00-0C", "vnet2", ",\"tags\":{\"team\":\"pay\"}")),
        rec("3", NET("10.0.0.2", "52:54:00:c7:00:0b", "vnet1", ",\"tags\":{\"team\":\"ops\"}")),
        rec("4", NET("not-an-ip", "52:54:00:c7:00", "vnet1", "")),
        rec("5", "{\"vm\":{\"name\":\"vm-a\",\"ip\":\"10.0.0.9\",\"mac\":\"52:54:00:c7:00:09\",\"spoof\":\"both\"}}"),
    };
    struct fjson_object *o = encode_json(r, 6);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs")), 5);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs", "0", "scopeLogs", "0", "logRecords")), 2);
    for (int k = 0; k < 5; k++) { /* records: syslog.appname and syslog.facility only */
        char ks[2] = {(char)('0' + k), 0};
        assert_int_equal(
            fjson_object_array_length(P(o, "resourceLogs", ks, "scopeLogs", "0", "logRecords", "0", "attributes")), 2);
    }
    static const char *const want[5][7] = {
        {"host.name=vm-a", "host.ip=[10.0.0.2]", "host.mac=[52-54-00-C7-00-0B]", "ctxlog.vm.vnic=vnet1",
         "ctxlog.vm.match=vnic", "ctxlog.tags.team=pay", NULL},
        {"host.name=vm-a", "host.ip=[fd00::2]", "host.mac=[52-54-00-C7-00-0C]", "ctxlog.vm.vnic=vnet2",
         "ctxlog.vm.match=vnic", "ctxlog.tags.team=pay", NULL},
        {"host.name=vm-a", "host.ip=[10.0.0.2]", "host.mac=[52-54-00-C7-00-0B]", "ctxlog.vm.vnic=vnet1",
         "ctxlog.vm.match=vnic", "ctxlog.tags.team=ops", NULL},
        /* not of the convention's form: kept under ctxlog.* as they came */
        {"host.name=vm-a", "ctxlog.vm.ip=not-an-ip", "ctxlog.vm.mac=52:54:00:c7:00", "ctxlog.vm.vnic=vnet1",
         "ctxlog.vm.match=vnic", NULL},
        /* spoofed: another VM's address and MAC are not this host's */
        {"host.name=vm-a", "ctxlog.vm.ip=10.0.0.9", "ctxlog.vm.mac=52:54:00:c7:00:09", "ctxlog.vm.spoof=both", NULL},
    };
    for (int k = 0; k < 5; k++) {
        char ks[2] = {(char)('0' + k), 0};
        struct fjson_object *attrs = P(o, "resourceLogs", ks, "resource", "attributes");
        int n = 0;
        while (want[k][n] != NULL) n++;
        assert_int_equal(fjson_object_array_length(attrs), n);
        for (int i = 0; i < n; i++) {
            struct fjson_object *kv = fjson_object_array_get_idx(attrs, i), *v = P(kv, "value", "stringValue");
            char got[128];
            if (v != NULL)
                snprintf(got, sizeof got, "%s=%s", fjson_object_get_string(P(kv, "key")), fjson_object_get_string(v));
            else
                snprintf(got, sizeof got, "%s=[%s]", fjson_object_get_string(P(kv, "key")),
                         fjson_object_get_string(P(kv, "value", "arrayValue", "values", "0", "stringValue")));
            assert_string_equal(got, want[k][i]);
        }
    }
    fjson_object_put(o);
}

static void escaping_and_utf8(void **state) {
    (void)state;
    static const char msg[] = "q\" b\\ c\x01\n\t \xc3\xa9 \xff \xe2\x82 \xed\xa0\x80 \xf0\x9f\x98\x80";
    static const char fixed[] = "q\" b\\ c\x01\n\t \xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
                                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xf0\x9f\x98\x80";
    ctx_fmt_rec_t r = rec("", "");
    r.msg.p = msg, r.msg.n = sizeof(msg) - 1;
    struct fjson_object *o = encode_json(&r, 1);
    struct fjson_object *body = P(o, "resourceLogs", "0", "scopeLogs", "0", "logRecords", "0", "body", "stringValue");
    assert_int_equal(fjson_object_get_string_len(body), sizeof(fixed) - 1);
    assert_memory_equal(fjson_object_get_string(body), fixed, sizeof(fixed) - 1);
    fjson_object_put(o);
    ctx_fmt_buf_t b = {0};
    char bodies[256];
    assert_int_equal(ctx_fmt_otlp_encode(&r, 1, 0, &b), 0);
    assert_int_equal(walk(b.buf, b.len, bodies, sizeof(bodies)), 1);
    assert_int_equal(strlen(bodies), sizeof(fixed) - 1 + 2);
    assert_memory_equal(bodies, fixed, sizeof(fixed) - 1);
    free(b.buf);
}

static void empty_fields(void **state) {
    (void)state;
    ctx_fmt_rec_t r;
    memset(&r, 0, sizeof(r));
    r.facility = -1, r.severity = -1;
    struct fjson_object *o = encode_json(&r, 1);
    struct fjson_object *lr = P(o, "resourceLogs", "0", "scopeLogs", "0", "logRecords", "0");
    assert_string_equal(fjson_object_get_string(P(lr, "body", "stringValue")), "");
    assert_null(P(lr, "severityNumber"));
    assert_null(P(lr, "timeUnixNano"));
    assert_int_equal(fjson_object_array_length(P(lr, "attributes")), 0);
    assert_int_equal(fjson_object_array_length(P(o, "resourceLogs", "0", "resource", "attributes")), 0);
    fjson_object_put(o);
    ctx_fmt_buf_t b = {0};
    char bodies[16];
    assert_int_equal(ctx_fmt_otlp_encode(&r, 1, 0, &b), 0);
    assert_int_equal(walk(b.buf, b.len, bodies, sizeof(bodies)), 1);
    assert_string_equal(bodies, "|#");
    free(b.buf);
}

/* n records, message "i", over `vms` VMs' contexts: record i has VM (i * step) % vms; the
 * texts in ctx[vms], the messages in msgs[n] (the caller's, alive as long as the records) */
static ctx_fmt_rec_t *records_over_vms(int n, int vms, int step, char (*ctx)[96], char (*msgs)[12]) {
    ctx_fmt_rec_t *r = calloc((size_t)n, sizeof(*r));
    assert_non_null(r);
    for (int v = 0; v < vms; v++) snprintf(ctx[v], 96, "{\"vm\":{\"name\":\"vm-%03d\",\"uuid\":\"u-%03d\"}}", v, v);
    for (int i = 0; i < n; i++) {
        snprintf(msgs[i], 12, "%d", i);
        r[i] = rec(msgs[i], ctx[(i * step) % vms]);
    }
    return r;
}

static void large_interleaved_batch(void **state) {
    (void)state;
    enum { VMS = 100, N = 20000 };
    static char ctx[VMS][96];
    static char msgs[N][12];
    ctx_fmt_rec_t *r = records_over_vms(N, VMS, 7, ctx, msgs);
    for (int json = 0; json <= 1; json++) {
        ctx_fmt_buf_t b = {.len = 3, .cap = 0};
        b.buf = malloc(3), b.cap = 3;
        memcpy(b.buf, "pre", 3); /* encode appends: what was there stays */
        assert_int_equal(ctx_fmt_otlp_encode(r, N, json, &b), 0);
        assert_memory_equal(b.buf, "pre", 3);
        if (!json) {
            size_t cap = (size_t)N * 8 + VMS + 16;
            char *bodies = malloc(cap);
            assert_int_equal(walk(b.buf + 3, b.len - 3, bodies, cap), N);
            /* each resource's records in input order: VM 0 has i = 0, 100, 200, ... */
            assert_memory_equal(bodies, "0|100|200|", 10);
            int groups = 0;
            for (char *p = bodies; *p; p++) groups += *p == '#';
            assert_int_equal(groups, VMS);
            free(bodies);
        }
        free(b.buf);
    }
    free(r);
}

/* one scratch kept over batches that grow, shrink and regrow, both encodings: every
 * body is byte for byte what an encode without a scratch gives */
static void scratch_kept_between_batches(void **state) {
    (void)state;
    enum { VMS = 7, N = 600 };
    static char ctx[VMS][96];
    static char msgs[N][12];
    ctx_fmt_rec_t *r = records_over_vms(N, VMS, 3, ctx, msgs);
    static const size_t sizes[] = {5, N, 1, 40, N, 3};
    ctx_fmt_scratch_t *s = NULL;
    for (int json = 0; json <= 1; json++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            const ctx_fmt_rec_t *part = r + (k * 11) % 7; /* other records each time */
            size_t n = sizes[k] > (size_t)N - 6 ? (size_t)N - 6 : sizes[k];
            ctx_fmt_buf_t with = {0}, without = {0};
            assert_int_equal(ctx_fmt_otlp_encode_s(part, n, json, &with, &s), 0);
            assert_non_null(s);
            assert_int_equal(ctx_fmt_otlp_encode(part, n, json, &without), 0);
            assert_int_equal(with.len, without.len);
            assert_memory_equal(with.buf, without.buf, with.len);
            free(with.buf), free(without.buf);
        }
    ctx_fmt_scratch_free(s);
    ctx_fmt_scratch_free(NULL);
    free(r);
}

static void arguments(void **state) {
    (void)state;
    ctx_fmt_rec_t r = rec("x", "");
    ctx_fmt_buf_t b = {0};
    assert_int_equal(ctx_fmt_otlp_encode(&r, 0, 0, &b), CTX_EINVAL);
    assert_int_equal(ctx_fmt_otlp_encode(NULL, 1, 0, &b), CTX_EINVAL);
    assert_int_equal(ctx_fmt_otlp_encode(&r, 1, 0, NULL), CTX_EINVAL);
    assert_int_equal(b.len, 0);
    uint64_t rej = 9;
    assert_int_equal(ctx_fmt_otlp_reply(NULL, 0, 0, &rej, NULL, 0), 0);
    assert_int_equal(rej, 0);
    assert_int_equal(ctx_fmt_otlp_reply("x", 1, 0, NULL, NULL, 0), CTX_EINVAL);
}

/* ---- replies */
static int reply(const void *b, size_t n, int json, uint64_t *rej, char *msg, size_t ml) {
    void *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
    memcpy(copy, b, n);
    int rc = ctx_fmt_otlp_reply(copy, n, json, rej, msg, ml);
    free(copy);
    return rc;
}

static const unsigned char PB_OK[] = {0x0a, 0x09, 0x08, 0x05, 0x12, 0x05, 'b', 'a', '\n', 'd', '!'};

static void reply_protobuf(void **state) {
    (void)state;
    uint64_t rej;
    char msg[64];
    assert_int_equal(reply(PB_OK, sizeof(PB_OK), 0, &rej, msg, sizeof(msg)), 0);
    assert_int_equal(rej, 5);
    assert_string_equal(msg, "ba d!"); /* the newline blanked */
    assert_int_equal(reply(PB_OK, sizeof(PB_OK), 0, &rej, msg, 3), 0);
    assert_string_equal(msg, "ba");
    /* unknown fields of every wire type skipped, before and inside partial_success */
    static const unsigned char unk[] = {0x48, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5d, 1, 2, 3, 4, 0x62, 0x01, 'x',
                                        0x0a, 0x05, 0x18, 0x07, 0x08, 0x96, 0x01};
    assert_int_equal(reply(unk, sizeof(unk), 0, &rej, msg, sizeof(msg)), 0);
    assert_int_equal(rej, 150);
    assert_string_equal(msg, "");
    static const unsigned char empty_ps[] = {0x0a, 0x00};
    assert_int_equal(reply(empty_ps, 2, 0, &rej, msg, sizeof(msg)), 0);
    assert_int_equal(rej, 0);
    /* hostile: a group, field 0, an 11-byte varint, a length past the end, a negative count */
    static const unsigned char bad[][12] = {{0x0b}, {0x00, 0x01}, {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                                  0x80, 0x80, 0x80, 0x01},
                                            {0x0a, 0x7f, 0x08}, {0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                                 0xff, 0xff, 0xff}};
    static const size_t badlen[] = {1, 2, 12, 3, 12};
    for (size_t i = 0; i < sizeof(badlen) / sizeof(badlen[0]); i++) {
        rej = 7;
        assert_int_equal(reply(bad[i], badlen[i], 0, &rej, msg, sizeof(msg)), CTX_EPARSE);
        assert_int_equal(rej, 0);
    }
    /* every prefix and every flipped byte: an answer or CTX_EPARSE, never more */
    for (size_t n = 0; n < sizeof(PB_OK); n++) {
        int rc = reply(PB_OK, n, 0, &rej, msg, sizeof(msg));
        assert_true(rc == 0 || rc == CTX_EPARSE);
    }
    for (size_t i = 0; i < sizeof(PB_OK); i++)
        for (int bit = 0; bit < 8; bit++) {
            unsigned char t[sizeof(PB_OK)];
            memcpy(t, PB_OK, sizeof(t));
            t[i] ^= (unsigned char)(1 << bit);
            int rc = reply(t, sizeof(t), 0, &rej, msg, sizeof(msg));
            assert_true(rc == 0 || rc == CTX_EPARSE);
            assert_true(strlen(msg) < sizeof(msg));
        }
    srand(17);
    for (int i = 0; i < 20000; i++) {
        unsigned char t[32];
        size_t n = (size_t)(rand() % 33);
        for (size_t k = 0; k < n; k++) t[k] = (unsigned char)rand();
        int rc = reply(t, n, i & 1, &rej, msg, sizeof(msg));
        assert_true(rc == 0 || rc == CTX_EPARSE);
    }
}

static void reply_json(void **state) {
    (void)state;
    uint64_t rej;
    char msg[16];
    static const struct {
        const char *body;
        int rc;
        uint64_t rej;
        const char *msg;
    } cases[] = {
        {"", 0, 0, ""},
        {" \r\n", 0, 0, ""},
        {"{}", 0, 0, ""},
        {"{\"partialSuccess\":{}}", 0, 0, ""},
        {"{\"partialSuccess\":null}", 0, 0, ""},
        {"{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":\"too old\"}}", 0, 3, "too old"},
        {"{\"partialSuccess\":{\"rejectedLogRecords\":4}}\n", 0, 4, ""},
        {"{\"partial_success\":{\"rejected_log_records\":\"5\",\"error_message\":\"x\\ny\"}}", 0, 5, "x y"},
        {"{\"partialSuccess\":{\"errorMessage\":\"a message longer than the buffer\"}}", 0, 0, "a message longe"},
    };
    /* not a reply: refused (CTX_EPARSE), nothing rejected, no message */
    static const char *const bad[] = {
        "{\"partialSuccess\":{\"rejectedLogRecords\":\"-1\"}}",
        "{\"partialSuccess\":{\"rejectedLogRecords\":-1}}",
        "{\"partialSuccess\":{\"rejectedLogRecords\":\"99999999999999999999\"}}",
        "{\"partialSuccess\":{\"rejectedLogRecords\":1.5}}",
        "{\"partialSuccess\":{\"rejectedLogRecords\":\"3x\"}}",
        "{\"partialSuccess\":{\"errorMessage\":7}}",
        "{\"partialSuccess\":[1]}",
        "[]",
        "\"s\"",
        "{} trailing",
        "{\"partialSuccess\":{\"rejectedLogRecords\":",
        "<html>502</html>",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = reply(cases[i].body, strlen(cases[i].body), 1, &rej, msg, sizeof(msg));
        if (rc != cases[i].rc || rej != cases[i].rej || strcmp(msg, cases[i].msg) != 0)
            fail_msg("case %zu (%s): rc %d rej %llu msg \"%s\"", i, cases[i].body, rc, (unsigned long long)rej, msg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = reply(bad[i], strlen(bad[i]), 1, &rej, msg, sizeof(msg));
        if (rc != CTX_EPARSE || rej != 0 || msg[0] != '\0')
            fail_msg("bad reply %zu (%s): rc %d rej %llu msg \"%s\"", i, bad[i], rc, (unsigned long long)rej, msg);
    }
    /* deep nesting: refused, no recursion without bound */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth), memset(deep + depth, ']', depth), deep[2 * depth] = '\0';
    assert_int_equal(reply(deep, 2 * depth, 1, &rej, msg, sizeof(msg)), CTX_EPARSE);
    free(deep);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(grouping_and_order),
    cmocka_unit_test(per_message_members_share_the_resource),
    cmocka_unit_test(source_members_are_resource_attributes),
    cmocka_unit_test(escaping_and_utf8),
    cmocka_unit_test(empty_fields),
    cmocka_unit_test(large_interleaved_batch),
    cmocka_unit_test(scratch_kept_between_batches),
    cmocka_unit_test(arguments),
    cmocka_unit_test(reply_protobuf),
    cmocka_unit_test(reply_json))
