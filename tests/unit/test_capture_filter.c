/* capture_filter: the kernel filter of the capture socket.
 *
 * Built programs are run on frames by a classic BPF interpreter written here (with
 * the SKF_AD_IFINDEX ancillary load the kernel has and libpcap's interpreter has
 * not), for random sets of 0..2048 interface indexes: a frame passes exactly when its
 * interface is in the set and the port test passes. Every built program is also
 * given to the kernel's own checker (SO_ATTACH_FILTER on a UDP socket, no privilege
 * needed), which rejects bad jumps and over-long programs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture_filter.h"
#include "ctxlog_common.h"

/* Classic BPF as the kernel runs it on a socket; ifindex is what SKF_AD_IFINDEX loads.
 * Returns the program's return value; aborts the test on anything it does not know. */
static uint32_t ld(const uint8_t *p, size_t len, uint32_t off, int size, int *oob) {
    if (off > len || (size_t)size > len - off) {
        *oob = 1;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < size; ++i) v = v << 8 | p[off + i];
    return v;
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t v) {
    switch (op) {
        case BPF_ADD: return a + v;
        case BPF_SUB: return a - v;
        case BPF_MUL: return a * v;
        case BPF_DIV: return v ? a / v : 0;
        case BPF_AND: return a & v;
        case BPF_OR: return a | v;
        case BPF_LSH: return a << (v & 31);
        case BPF_RSH: return a >> (v & 31);
        case BPF_NEG: return -a;
        default: fail_msg("alu op %#x", op); return 0;
    }
}

static int jump(uint16_t op, uint32_t a, uint32_t v) {
    switch (op) {
        case BPF_JEQ: return a == v;
        case BPF_JGT: return a > v;
        case BPF_JGE: return a >= v;
        case BPF_JSET: return (a & v) != 0;
        default: fail_msg("jump op %#x", op); return 0;
    }
}

static uint32_t run(const struct sock_filter *f, size_t n, const uint8_t *pkt, size_t len, uint32_t ifindex) {
    uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0};
    static const int sizes[] = {[BPF_W] = 4, [BPF_H] = 2, [BPF_B] = 1};
    for (size_t pc = 0; pc < n; ++pc) {
        const struct sock_filter *i = &f[pc];
        int oob = 0;
        switch (BPF_CLASS(i->code)) {
            case BPF_LD:
                if (BPF_MODE(i->code) == BPF_IMM) A = i->k;
                else if (BPF_MODE(i->code) == BPF_MEM) A = M[i->k];
                else if (BPF_MODE(i->code) == BPF_ABS && i->k == (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX)) A = ifindex;
                else if (BPF_MODE(i->code) == BPF_ABS) A = ld(pkt, len, i->k, sizes[BPF_SIZE(i->code)], &oob);
                else if (BPF_MODE(i->code) == BPF_IND) A = ld(pkt, len, X + i->k, sizes[BPF_SIZE(i->code)], &oob);
                else if (BPF_MODE(i->code) == BPF_LEN) A = (uint32_t)len;
                else fail_msg("ld mode %#x", i->code);
                break;
            case BPF_LDX:
                if (BPF_MODE(i->code) == BPF_IMM) X = i->k;
                else if (BPF_MODE(i->code) == BPF_MEM) X = M[i->k];
                else if (BPF_MODE(i->code) == BPF_MSH) X = 4 * (ld(pkt, len, i->k, 1, &oob) & 0xf);
                else fail_msg("ldx mode %#x", i->code);
                break;
            case BPF_ST: M[i->k] = A; break;
            case BPF_STX: M[i->k] = X; break;
            case BPF_ALU: A = alu(BPF_OP(i->code), A, BPF_SRC(i->code) == BPF_X ? X : i->k); break;
            case BPF_JMP:
                if (BPF_OP(i->code) == BPF_JA) pc += i->k;
                else pc += jump(BPF_OP(i->code), A, BPF_SRC(i->code) == BPF_X ? X : i->k) ? i->jt : i->jf;
                break;
            case BPF_RET: return BPF_RVAL(i->code) == BPF_A ? A : i->k;
            case BPF_MISC:
                if (BPF_MISCOP(i->code) == BPF_TAX) X = A;
                else A = X;
                break;
        }
        if (oob) return 0; /* the kernel ends the program with 0 on a load past the frame */
    }
    fail_msg("program ran off its end");
    return 0;
}

/* the kernel's checker accepts prog */
static void kernel_accepts(const struct sock_filter *prog, size_t n) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    struct sock_fprog fp = {.len = (unsigned short)n, .filter = (struct sock_filter *)prog};
    int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
    if (rc != 0) fail_msg("SO_ATTACH_FILTER of %zu instructions: %s", n, strerror(errno));
    close(fd);
}

/* Ethernet (+ optional 802.1Q tag) + IPv4 + UDP to dport */
static size_t udp_frame(uint8_t *f, int vlan, uint16_t dport) {
    size_t o = 12;
    memset(f, 0, 128);
    memcpy(f, "\x52\x54\x00\x00\x00\x01\x52\x54\x00\x00\x00\x02", 12);
    if (vlan) {
        memcpy(f + o, "\x81\x00\x00", 3);
        f[o + 3] = (uint8_t)vlan;
        o += 4;
    }
    f[o++] = 0x08;
    f[o++] = 0x00;
    uint8_t *ip = f + o;
    ip[0] = 0x45, ip[3] = 32, ip[8] = 64, ip[9] = 17;
    memcpy(ip + 12, "\x0a\xe7\x01\x02\x0a\xe7\x01\x01", 8);
    uint8_t *udp = ip + 20;
    udp[0] = 0x30, udp[1] = 0x39, udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport, udp[5] = 12;
    memcpy(udp + 8, "<13>", 4);
    return o + 32;
}

static struct sock_filter *port_prog(size_t *n, int snaplen) {
    char expr[4096], err[CTX_ERRLEN] = "";
    uint16_t udp[] = {514, 1514}, tcp[] = {601};
    struct sock_filter *p = NULL;
    ASSERT_GT(ctx_capture_filter(udp, 2, tcp, 1, expr, sizeof expr), 0);
    assert_int_equal(ctx_capfilter_compile(expr, snaplen, &p, n, err, sizeof err), 0);
    ASSERT_GT(*n, 10);
    return p;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* n distinct sorted indexes in 1..range */
static void random_set(uint32_t *idx, size_t n, uint32_t range) {
    for (size_t i = 0; i < n;) {
        uint32_t v = 1 + (uint32_t)random() % range;
        int dup = 0;
        for (size_t j = 0; j < i && !dup; ++j) dup = idx[j] == v;
        if (!dup) idx[i++] = v;
    }
    qsort(idx, n, sizeof *idx, cmp_u32);
}

static void check_set(const uint32_t *idx, size_t n, uint32_t range, const struct sock_filter *port, size_t port_len) {
    static struct sock_filter prog[CTX_CAPFILTER_MAX_INSNS];
    uint8_t f[128], g[128], v[128];
    size_t flen = udp_frame(f, 0, 514), glen = udp_frame(g, 0, 53), vlen = udp_frame(v, 7, 1514);
    int len = ctx_capfilter_build(idx, n, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS);
    assert_int_equal(len, (int)ctx_capfilter_size(n, port_len));
    kernel_accepts(prog, (size_t)len);
    size_t k = 0, passed = 0;
    for (uint32_t i = 0; i <= range + 1; ++i) {
        int member = k < n && idx[k] == i;
        if (member) ++k;
        uint32_t r = run(prog, (size_t)len, f, flen, i);
        if ((r != 0) != member) fail_msg("set of %zu: ifindex %u member %d, filter returned %u", n, i, member, r);
        assert_int_equal(run(prog, (size_t)len, g, glen, i), 0); /* port 53: never */
        assert_int_equal(run(prog, (size_t)len, v, vlen, i) != 0, member); /* under a VLAN tag */
        passed += r != 0;
    }
    assert_int_equal(passed, n);
}

static void sets_of_every_size(void **state) {
    (void)state;
    size_t port_len;
    struct sock_filter *port = port_prog(&port_len, 65535);
    static uint32_t idx[2048];
    static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 31, 33, 100, 257, 1000, 2048};
    srandom(12);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
        for (int round = 0; round < 3; ++round) {
            uint32_t range = round == 0 ? (uint32_t)sizes[s] + 5 : 3u * (uint32_t)sizes[s] + 50;
            random_set(idx, sizes[s], range);
            check_set(idx, sizes[s], range, port, port_len);
        }
    }
    /* indexes near the top of the range (the kernel's ifindex is an int) */
    uint32_t high[] = {1, 65535, 65536, 0x7ffffffe, 0x7fffffff};
    static struct sock_filter prog[CTX_CAPFILTER_MAX_INSNS];
    int len = ctx_capfilter_build(high, 5, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS);
    uint32_t others[] = {0, 2, 65534, 65537, 0x7ffffffd};
    uint8_t f[128];
    size_t flen = udp_frame(f, 0, 514);
    for (size_t i = 0; i < 5; ++i) {
        assert_int_equal(run(prog, (size_t)len, f, flen, high[i]), 65535); /* the snap length */
        assert_int_equal(run(prog, (size_t)len, f, flen, others[i]), 0);
    }
    free(port);
}

static void empty_set_rejects_everything(void **state) {
    (void)state;
    struct sock_filter prog[4];
    uint8_t f[128];
    size_t flen = udp_frame(f, 0, 514);
    assert_int_equal(ctx_capfilter_build(NULL, 0, NULL, 0, prog, 4), 1);
    assert_int_equal(run(prog, 1, f, flen, 3), 0);
    kernel_accepts(prog, 1);
}

static void bounds_and_errors(void **state) {
    (void)state;
    size_t port_len;
    struct sock_filter *port = port_prog(&port_len, 262144);
    static struct sock_filter prog[CTX_CAPFILTER_MAX_INSNS];
    static uint32_t idx[4096];
    for (uint32_t i = 0; i < 4096; ++i) idx[i] = i + 1;
    /* the largest set that fits, and one more */
    size_t fit = 0;
    while (ctx_capfilter_size(fit + 1, port_len) <= CTX_CAPFILTER_MAX_INSNS) ++fit;
    ASSERT_GE(fit, 2048); /* capture.c attaches up to 2048 interfaces */
    int len = ctx_capfilter_build(idx, fit, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS);
    ASSERT_GT(len, 0);
    ASSERT_LE(len, CTX_CAPFILTER_MAX_INSNS);
    kernel_accepts(prog, (size_t)len);
    assert_int_equal(ctx_capfilter_build(idx, fit + 1, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS), CTX_EINVAL);
    /* unsorted or duplicate indexes, a short buffer */
    uint32_t bad[] = {3, 2}, dup[] = {2, 2};
    assert_int_equal(ctx_capfilter_build(bad, 2, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS), CTX_EINVAL);
    assert_int_equal(ctx_capfilter_build(dup, 2, port, port_len, prog, CTX_CAPFILTER_MAX_INSNS), CTX_EINVAL);
    assert_int_equal(ctx_capfilter_build(idx, 3, port, port_len, prog, 10), CTX_EINVAL);
    /* a compile error names what libpcap did not like */
    char err[CTX_ERRLEN] = "";
    struct sock_filter *p = NULL;
    size_t n = 0;
    assert_int_equal(ctx_capfilter_compile("udp and dst port banana", 65535, &p, &n, err, sizeof err), CTX_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err, "banana"));
    free(port);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(sets_of_every_size),
    cmocka_unit_test(empty_set_rejects_everything),
    cmocka_unit_test(bounds_and_errors))
