/* capture_filter.c: the capture socket's classic BPF program (see capture_filter.h).
 *
 * Layout of a built program:
 *
 *     ld  #ifindex                      ancillary load SKF_AD_IFINDEX
 *     <search tree over the indexes>    every match jumps (ja) to ACCEPT, every miss returns 0
 *   ACCEPT:
 *     <port program, verbatim>          its jumps are relative, so it moves as it is
 *
 * Conditional jumps of classic BPF reach at most 255 instructions ahead, so the tree
 * only ever jumps 0 or 1 ahead conditionally and uses `ja` (32-bit offset) for the
 * long jumps. An inner node is `jgt #pivot, 0, 1; ja RIGHT` followed by the left
 * half; a leaf tests up to CTX_CAPFILTER_LEAF indexes with `jeq` to its own
 * `ja ACCEPT` after a `ret #0`.
 *
 * Concurrency: no state.
 */
#include "capture_filter.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

/* appends "(proto and (dst port A or dst port B ...))" */
static int append_ports(char *buf, size_t buflen, size_t *pos, const char *proto, const uint16_t *ports, size_t n) {
    int w = snprintf(buf + *pos, buflen - *pos, "(%s and (", proto);
    if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
    *pos += (size_t)w;
    for (size_t i = 0; i < n; ++i) {
        w = snprintf(buf + *pos, buflen - *pos, "%sdst port %u", i ? " or " : "", ports[i]);
        if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
        *pos += (size_t)w;
    }
    w = snprintf(buf + *pos, buflen - *pos, "))");
    if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
    *pos += (size_t)w;
    return 0;
}

/* the part of the filter that follows the (possibly VLAN-shifted) link header */
static int filter_inner(const uint16_t *udp, size_t n_udp, const uint16_t *tcp, size_t n_tcp, char *buf, size_t buflen) {
    size_t pos = 0;
    int w;
    if (append_ports(buf, buflen, &pos, "udp", udp, n_udp) != 0) return CTX_EINVAL;
    if (n_tcp > 0) {
        if (pos + 4 >= buflen) return CTX_EINVAL;
        memcpy(buf + pos, " or ", 5);
        pos += 4;
        if (append_ports(buf, buflen, &pos, "tcp", tcp, n_tcp) != 0) return CTX_EINVAL;
    }
    /* IPv4 fragments (MF set or offset non-zero) and IPv6 with extension headers
     * (hop-by-hop 0, routing 43, fragment 44, destination options 60) */
    w = snprintf(buf + pos, buflen - pos,
                 " or (ip and ip[6:2] & 0x3fff != 0)"
                 " or (ip6 and (ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60))");
    if (w < 0 || (size_t)w >= buflen - pos) return CTX_EINVAL;
    return (int)(pos + (size_t)w);
}

int ctx_capture_filter(const uint16_t *udp_ports, size_t n_udp, const uint16_t *tcp_ports, size_t n_tcp, char *buf,
                       size_t buflen) {
    char inner[4096 / 3];
    if (buf == NULL || buflen == 0 || n_udp == 0) return CTX_EINVAL; /* UDP ports are required; TCP optional */
    if (filter_inner(udp_ports, n_udp, tcp_ports, n_tcp, inner, sizeof inner) < 0) return CTX_EINVAL;
    /* `vlan` shifts every later offset by 4 in libpcap: untagged first, then one tag, then two */
    int w = snprintf(buf, buflen, "(%s) or (vlan and ((%s) or (vlan and (%s))))", inner, inner, inner);
    if (w < 0 || (size_t)w >= buflen) return CTX_EINVAL;
    return w;
}

int ctx_capfilter_compile(const char *expr, int snaplen, struct sock_filter **out, size_t *n, char *err,
                          size_t errlen) {
    struct bpf_program prog;
    *out = NULL;
    *n = 0;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, snaplen > 0 ? snaplen : 65535);
    if (dead == NULL) return CTX_ENOMEM;
    if (pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "%s", pcap_geterr(dead));
        pcap_close(dead);
        return CTX_EINVAL;
    }
    pcap_close(dead);
    struct sock_filter *f = calloc(prog.bf_len ? prog.bf_len : 1, sizeof *f);
    if (f == NULL) {
        pcap_freecode(&prog);
        return CTX_ENOMEM;
    }
    for (unsigned i = 0; i < prog.bf_len; ++i)
        f[i] = (struct sock_filter){prog.bf_insns[i].code, prog.bf_insns[i].jt, prog.bf_insns[i].jf,
                                    prog.bf_insns[i].k};
    *n = prog.bf_len;
    *out = f;
    pcap_freecode(&prog);
    return 0;
}

static size_t tree_size(size_t n) {
    if (n <= CTX_CAPFILTER_LEAF) return n + 2;
    return 2 + tree_size(n / 2) + tree_size(n - n / 2);
}

size_t ctx_capfilter_size(size_t n_if, size_t port_len) {
    return n_if == 0 ? 1 : 1 + tree_size(n_if) + port_len;
}

struct emit {
    struct sock_filter *out;
    size_t n;
    size_t *accept_jumps; /* positions of the `ja ACCEPT` to patch */
    size_t n_accept;
};

static void put(struct emit *e, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
    e->out[e->n++] = (struct sock_filter){code, jt, jf, k};
}

/* emits the search over idx[0..n) (n >= 1); sizes are checked by the caller */
static void emit_tree(struct emit *e, const uint32_t *idx, size_t n) {
    if (n <= CTX_CAPFILTER_LEAF) {
        for (size_t j = 0; j < n; ++j) put(e, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - j), 0, idx[j]);
        put(e, BPF_RET | BPF_K, 0, 0, 0);
        e->accept_jumps[e->n_accept++] = e->n;
        put(e, BPF_JMP | BPF_JA, 0, 0, 0);
        return;
    }
    size_t mid = n / 2;
    put(e, BPF_JMP | BPF_JGT | BPF_K, 0, 1, idx[mid - 1]); /* > pivot: the ja to the right half */
    size_t ja = e->n;
    put(e, BPF_JMP | BPF_JA, 0, 0, 0);
    emit_tree(e, idx, mid);
    e->out[ja].k = (uint32_t)(e->n - ja - 1);
    emit_tree(e, idx + mid, n - mid);
}

int ctx_capfilter_build(const uint32_t *ifindex, size_t n_if, const struct sock_filter *port, size_t port_len,
                        struct sock_filter *out, size_t out_cap) {
    for (size_t i = 1; i < n_if; ++i)
        if (ifindex[i] <= ifindex[i - 1]) return CTX_EINVAL;
    size_t need = ctx_capfilter_size(n_if, port_len);
    if (out == NULL || need > out_cap || need > CTX_CAPFILTER_MAX_INSNS || (n_if > 0 && port_len == 0))
        return CTX_EINVAL;
    if (n_if == 0) {
        out[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
        return 1;
    }
    size_t jumps[CTX_CAPFILTER_MAX_INSNS / 2];
    struct emit e = {.out = out, .accept_jumps = jumps};
    put(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_IFINDEX));
    emit_tree(&e, ifindex, n_if);
    for (size_t i = 0; i < e.n_accept; ++i) out[jumps[i]].k = (uint32_t)(e.n - jumps[i] - 1);
    memcpy(out + e.n, port, port_len * sizeof *port);
    return (int)(e.n + port_len);
}
