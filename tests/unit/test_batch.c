#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "batch.h"
#include "ctxlog_common.h"

static ctx_batch_t *mk(ctx_batch_format_t fmt, size_t max_msgs, size_t max_bytes, uint64_t delay) {
    ctx_batch_limits_t l = {max_msgs, max_bytes, delay};
    ctx_batch_t *b = NULL;
    assert_int_equal(ctx_batch_new(fmt, &l, &b), 0);
    assert_non_null(b);
    return b;
}

static void assert_body(const ctx_batch_t *b, const char *want) {
    size_t len;
    const char *body = ctx_batch_body(b, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body, want, len);
}

#define APPEND(b, s) ctx_batch_append((b), (s), strlen(s))

static void ndjson_framing(void **state) {
    (void)state;
    ctx_batch_t *b = mk(CTX_BATCH_NDJSON, 0, 0, 1000);
    assert_body(b, "");
    assert_int_equal(APPEND(b, "{\"a\":1}"), 0);
    assert_int_equal(APPEND(b, "{\"b\":2}\n"), 0); /* one trailing LF is removed */
    assert_body(b, "{\"a\":1}\n{\"b\":2}\n");
    assert_int_equal(ctx_batch_count(b), 2);
    /* a message with an inner LF would break NDJSON; empty ones are refused */
    assert_int_equal(APPEND(b, "{\"c\":\n3}"), CTX_EINVAL);
    assert_int_equal(APPEND(b, "x\n\n"), CTX_EINVAL);
    assert_int_equal(APPEND(b, "\n"), CTX_EINVAL);
    assert_int_equal(APPEND(b, ""), CTX_EINVAL);
    assert_body(b, "{\"a\":1}\n{\"b\":2}\n");
    assert_int_equal(ctx_batch_count(b), 2);
    assert_int_equal(ctx_batch_format(b), CTX_BATCH_NDJSON);
    ctx_batch_reset(b);
    assert_body(b, "");
    assert_int_equal(ctx_batch_count(b), 0);
    ctx_batch_free(b);
    ctx_batch_free(NULL);
}

static void json_array_framing(void **state) {
    (void)state;
    ctx_batch_t *b = mk(CTX_BATCH_JSON_ARRAY, 0, 0, 1000);
    assert_body(b, "[]");
    assert_int_equal(APPEND(b, "{\"a\":1}\n"), 0);
    assert_body(b, "[{\"a\":1}]");
    assert_int_equal(APPEND(b, "{\"b\":\n2}"), 0); /* inner LF is fine inside an array */
    assert_int_equal(APPEND(b, "3"), 0);
    assert_body(b, "[{\"a\":1},{\"b\":\n2},3]");
    ctx_batch_reset(b);
    assert_body(b, "[]");
    assert_int_equal(APPEND(b, "4"), 0);
    assert_body(b, "[4]");
    ctx_batch_free(b);
}

static void octet_counted_framing(void **state) {
    (void)state;
    ctx_batch_t *b = mk(CTX_BATCH_OCTET_COUNTED, 0, 0, 1000);
    assert_int_equal(APPEND(b, "<13>1 2026-01-01T00:00:00Z h a - - - hi\n"), 0);
    assert_int_equal(APPEND(b, "x y\nz"), 0); /* LF inside a frame is fine */
    char big[1000];
    memset(big, 'q', sizeof big);
    assert_int_equal(ctx_batch_append(b, big, sizeof big), 0);
    size_t len;
    const char *body = ctx_batch_body(b, &len);
    const char *want = "39 <13>1 2026-01-01T00:00:00Z h a - - - hi5 x y\nz1000 ";
    assert_int_equal(len, strlen(want) + 1000);
    assert_memory_equal(body, want, strlen(want));
    assert_memory_equal(body + strlen(want), big, 1000);
    ctx_batch_free(b);
}

static void limits_messages_and_bytes(void **state) {
    (void)state;
    ctx_batch_t *b = mk(CTX_BATCH_NDJSON, 3, 0, 1000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ctx_batch_is_full(b), 0);
        assert_int_equal(APPEND(b, "m"), 0);
    }
    assert_int_equal(ctx_batch_is_full(b), 1);
    assert_int_equal(APPEND(b, "m"), CTX_EFULL);
    assert_int_equal(ctx_batch_count(b), 3);
    ctx_batch_reset(b);
    assert_int_equal(APPEND(b, "m"), 0);
    ctx_batch_free(b);

    /* NDJSON body bytes: "aaaa\n" = 5, + "bbbb\n" = 10 == max_bytes: fits exactly */
    b = mk(CTX_BATCH_NDJSON, 0, 10, 1000);
    assert_int_equal(APPEND(b, "aaaa"), 0);
    assert_int_equal(ctx_batch_is_full(b), 0);
    assert_int_equal(APPEND(b, "bbbbb"), CTX_EFULL); /* 11 > 10 */
    assert_int_equal(APPEND(b, "bbbb"), 0);
    assert_int_equal(ctx_batch_is_full(b), 1);
    assert_int_equal(APPEND(b, "c"), CTX_EFULL);
    assert_body(b, "aaaa\nbbbb\n");
    /* one message bigger than max_bytes goes alone into an empty batch */
    ctx_batch_reset(b);
    assert_int_equal(APPEND(b, "0123456789abcdef"), 0);
    assert_int_equal(ctx_batch_is_full(b), 1);
    assert_int_equal(APPEND(b, "c"), CTX_EFULL);
    ctx_batch_free(b);

    /* JSON array: "[1]" 3, "[1,2]" 5, "[1,2,3]" 7 */
    b = mk(CTX_BATCH_JSON_ARRAY, 0, 7, 1000);
    assert_int_equal(APPEND(b, "1"), 0);
    assert_int_equal(APPEND(b, "2"), 0);
    assert_int_equal(APPEND(b, "3"), 0);
    assert_int_equal(APPEND(b, "4"), CTX_EFULL);
    assert_body(b, "[1,2,3]");
    ctx_batch_free(b);

    /* octet-counted: "1 a" 3 bytes a frame; "10 " prefix counts too */
    b = mk(CTX_BATCH_OCTET_COUNTED, 0, 9, 1000);
    assert_int_equal(APPEND(b, "a"), 0);
    assert_int_equal(APPEND(b, "b"), 0);
    assert_int_equal(APPEND(b, "cc"), CTX_EFULL); /* 6 + 4 > 9 */
    assert_int_equal(APPEND(b, "c"), 0);
    assert_body(b, "1 a1 b1 c");
    ctx_batch_free(b);
}

static void delay_and_due(void **state) {
    (void)state;
    ctx_batch_t *b = mk(CTX_BATCH_NDJSON, 2, 0, 500);
    assert_int_equal(ctx_batch_opened_ms(b), 0);
    assert_int_equal(ctx_batch_due(b, ctx_batch_now_ms() + 100000), 0); /* empty: never due */
    uint64_t before = ctx_batch_now_ms();
    assert_int_equal(APPEND(b, "x"), 0);
    uint64_t opened = ctx_batch_opened_ms(b);
    ASSERT_GE(opened, before);
    ASSERT_LE(opened, ctx_batch_now_ms());
    assert_int_equal(ctx_batch_due(b, opened + 499), 0);
    assert_int_equal(ctx_batch_due(b, opened + 500), 1);
    assert_int_equal(APPEND(b, "y"), 0);
    assert_int_equal(ctx_batch_opened_ms(b), opened); /* the first message's time */
    assert_int_equal(ctx_batch_due(b, opened), 1);    /* full */
    ctx_batch_reset(b);
    assert_int_equal(ctx_batch_opened_ms(b), 0);
    ctx_batch_free(b);
    ctx_batch_t *bad = (ctx_batch_t *)1;
    ctx_batch_limits_t l = {0, 0, 0};
    assert_int_equal(ctx_batch_new((ctx_batch_format_t)8, &l, &bad), CTX_EINVAL);
    assert_null(bad);
    assert_int_equal(ctx_batch_new(CTX_BATCH_NDJSON, NULL, &bad), CTX_EINVAL);
}

/* syslog-like text: compressible but not trivially */
static char *sample_text(size_t n) {
    char *s = malloc(n + 1);
    size_t o = 0;
    unsigned seq = 0;
    while (o < n) {
        char line[200];
        int k = snprintf(line, sizeof line,
                         "{\"seq\":%u,\"host\":\"vm-%u\",\"msg\":\"session opened for user u%u by (uid=%u)\"}\n", seq,
                         seq % 17, (seq * 7919u) % 1000u, seq % 3);
        seq++;
        size_t c = (size_t)k < n - o ? (size_t)k : n - o;
        memcpy(s + o, line, c);
        o += c;
    }
    s[n] = '\0';
    return s;
}

static void roundtrip_one(ctx_batch_encoder_t *e, ctx_encoding_t enc, int level, const char *in, size_t n) {
    const void *out;
    size_t outlen;
    assert_int_equal(ctx_batch_encode(e, enc, level, in, n, &out, &outlen), 0);
    if (enc == CTX_ENC_ZSTD) {
        assert_memory_equal(out, "\x28\xb5\x2f\xfd", 4);
        assert_int_equal(ZSTD_getFrameContentSize(out, outlen), n); /* content size is in the header */
        char *plain = malloc(n + 1);
        assert_int_equal(ZSTD_decompress(plain, n + 1, out, outlen), n); /* libzstd's own one-shot path */
        assert_memory_equal(plain, in, n);
        free(plain);
    } else if (enc == CTX_ENC_GZIP) {
        assert_memory_equal(out, "\x1f\x8b\x08", 3);
    } else {
        assert_ptr_equal(out, in);
        assert_int_equal(outlen, n);
    }
    unsigned char *dec;
    size_t declen;
    assert_int_equal(ctx_batch_decode(enc, out, outlen, n, &dec, &declen), 0);
    assert_int_equal(declen, n);
    assert_memory_equal(dec, in, n);
    assert_int_equal(dec[n], '\0');
    free(dec);
}

static void encode_decode_roundtrip(void **state) {
    (void)state;
    ctx_batch_encoder_t *e;
    assert_int_equal(ctx_batch_encoder_new(&e), 0);
    const size_t sizes[] = {0, 1, 100, 65536, 1000000};
    uint64_t want_in = 0, calls = 0;
    char *text = sample_text(1000000);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int enc = 0; enc < 3; enc++) {
            roundtrip_one(e, (ctx_encoding_t)enc, 0, text, sizes[i]);
            want_in += sizes[i];
            calls++;
        }
    uint64_t in, out, batches;
    ctx_batch_encoder_stats(e, &in, &out, &batches);
    assert_int_equal(in, want_in);
    assert_int_equal(batches, calls);
    ASSERT_LT(out, in);
    /* compression works: 1 MB of log lines to well under a third */
    const void *z;
    size_t zlen, glen;
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, 3, text, 1000000, &z, &zlen), 0);
    ASSERT_LT(zlen, 1000000 / 3);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_GZIP, 6, text, 1000000, &z, &glen), 0);
    ASSERT_LT(glen, 1000000 / 3);
    ctx_batch_encoder_stats(e, &in, &out, &batches);
    assert_int_equal(batches, calls + 2);
    assert_int_equal(in, want_in + 2000000);
    free(text);
    ctx_batch_encoder_free(e);
    ctx_batch_encoder_free(NULL);
}

static void levels(void **state) {
    (void)state;
    ctx_batch_encoder_t *e;
    assert_int_equal(ctx_batch_encoder_new(&e), 0);
    char *text = sample_text(200000);
    const void *out;
    size_t l1, l19, g1, g9;
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, 1, text, 200000, &out, &l1), 0);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, 19, text, 200000, &out, &l19), 0);
    ASSERT_LT(l19, l1);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, -5, text, 200000, &out, &l1), 0);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_GZIP, 1, text, 200000, &out, &g1), 0);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_GZIP, 9, text, 200000, &out, &g9), 0);
    ASSERT_LT(g9, g1);
    roundtrip_one(e, CTX_ENC_GZIP, 1, text, 200000); /* level change re-made the stream */
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, 20, text, 10, &out, &l1), CTX_EINVAL);
    assert_null(out);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_ZSTD, -6, text, 10, &out, &l1), CTX_EINVAL);
    assert_int_equal(ctx_batch_encode(e, CTX_ENC_GZIP, 10, text, 10, &out, &l1), CTX_EINVAL);
    assert_int_equal(ctx_batch_encode(e, (ctx_encoding_t)9, 0, text, 10, &out, &l1), CTX_EINVAL);
    assert_string_equal(ctx_encoding_name(CTX_ENC_ZSTD), "zstd");
    assert_string_equal(ctx_encoding_name(CTX_ENC_GZIP), "gzip");
    assert_string_equal(ctx_encoding_name(CTX_ENC_NONE), "none");
    free(text);
    ctx_batch_encoder_free(e);
}

/* the standard command-line tools read what we write */
static void cli_tools_decode(void **state) {
    (void)state;
    if (system("command -v zstd >/dev/null && command -v gzip >/dev/null") != 0) {
        print_message("SKIP: zstd or gzip command not installed\n");
        skip();
    }
    ctx_batch_encoder_t *e;
    assert_int_equal(ctx_batch_encoder_new(&e), 0);
    char *text = sample_text(300000);
    const char *cmds[] = {"zstd -dc", "gzip -dc"};
    ctx_encoding_t encs[] = {CTX_ENC_ZSTD, CTX_ENC_GZIP};
    for (int i = 0; i < 2; i++) {
        char in[] = "/tmp/ctx_batch_XXXXXX";
        int fd = mkstemp(in);
        ASSERT_GE(fd, 0);
        const void *out;
        size_t outlen;
        assert_int_equal(ctx_batch_encode(e, encs[i], 0, text, 300000, &out, &outlen), 0);
        assert_int_equal(write(fd, out, outlen), (ssize_t)outlen);
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s %s", cmds[i], in);
        FILE *p = popen(cmd, "r");
        char *got = malloc(400000);
        size_t n = fread(got, 1, 400000, p);
        assert_int_equal(pclose(p), 0);
        assert_int_equal(n, 300000);
        assert_memory_equal(got, text, n);
        free(got);
        unlink(in);
    }
    free(text);
    ctx_batch_encoder_free(e);
}

static void decode_rejects_bad_input(void **state) {
    (void)state;
    ctx_batch_encoder_t *e;
    assert_int_equal(ctx_batch_encoder_new(&e), 0);
    char *text = sample_text(5000);
    for (int enc = 1; enc <= 2; enc++) {
        const void *out;
        size_t n;
        assert_int_equal(ctx_batch_encode(e, (ctx_encoding_t)enc, 0, text, 5000, &out, &n), 0);
        unsigned char *z = malloc(n + 1);
        memcpy(z, out, n);
        unsigned char *dec = (unsigned char *)1;
        size_t dlen = 1;
        for (size_t cut = 0; cut < n; cut++) { /* every truncation */
            assert_int_equal(ctx_batch_decode((ctx_encoding_t)enc, z, cut, 10000, &dec, &dlen), CTX_EPARSE);
            assert_null(dec);
            assert_int_equal(dlen, 0);
        }
        for (size_t i = 0; i < n; i++) { /* every single-byte corruption: never wrong data */
            z[i] ^= 0x41;
            int rc = ctx_batch_decode((ctx_encoding_t)enc, z, n, 10000, &dec, &dlen);
            if (rc == 0) { /* only bytes no decoder checks (gzip mtime / OS) may change */
                assert_true(enc == CTX_ENC_GZIP && i >= 4 && i < 10);
                assert_int_equal(dlen, 5000);
                assert_memory_equal(dec, text, 5000);
                free(dec);
            }
            z[i] ^= 0x41;
        }
        z[n] = 'x'; /* trailing garbage */
        assert_int_equal(ctx_batch_decode((ctx_encoding_t)enc, z, n + 1, 10000, &dec, &dlen), CTX_EPARSE);
        /* bounded output: exactly fits / one byte short */
        assert_int_equal(ctx_batch_decode((ctx_encoding_t)enc, z, n, 5000, &dec, &dlen), 0);
        assert_int_equal(dlen, 5000);
        free(dec);
        assert_int_equal(ctx_batch_decode((ctx_encoding_t)enc, z, n, 4999, &dec, &dlen), CTX_EFULL);
        assert_null(dec);
        free(z);
    }
    unsigned char *dec;
    size_t dlen;
    assert_int_equal(ctx_batch_decode(CTX_ENC_NONE, text, 100, 99, &dec, &dlen), CTX_EFULL);
    assert_int_equal(ctx_batch_decode(CTX_ENC_NONE, text, 100, 100, &dec, &dlen), 0);
    assert_int_equal(dlen, 100);
    assert_memory_equal(dec, text, 100);
    free(dec);
    free(text);
    ctx_batch_encoder_free(e);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(ndjson_framing),        cmocka_unit_test(json_array_framing),
    cmocka_unit_test(octet_counted_framing), cmocka_unit_test(limits_messages_and_bytes),
    cmocka_unit_test(delay_and_due),         cmocka_unit_test(encode_decode_roundtrip),
    cmocka_unit_test(levels),                cmocka_unit_test(cli_tools_decode),
    cmocka_unit_test(decode_rejects_bad_input))
