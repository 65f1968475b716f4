/* fuzz_tcpreasm.c: libFuzzer target for the TCP reassembler (common/capture/tcpreasm.c).
 *
 * The input is a sequence of segment records for four flows, fed to one small
 * reassembler (1 MiB, at most 3 flows, 64 KiB window, short timeouts) so that
 * holes, gaps, evictions, timeouts, wrap-around and tombstones all happen.
 * Record: 4 header bytes, then the payload:
 *   h0  bits 0-1 flow, bit 2 SYN, bit 3 FIN, bit 4 RST, bits 5-6 clock step before
 *       it (0, 1, 150 or 2000 ms), bit 7: the snap length cut 16 bytes off
 *   h1  payload length
 *   h2 h3  big-endian offset of the payload in the flow's stream (the flow's ISN is
 *       near 2^32, so offsets past 255 wrap the sequence number)
 * After every call: memory within max_bytes, flows within max_flows, every frame
 * 1..max_frame bytes. At the end ctx_tcpreasm_flush() must leave no flow. The unit
 * test tests/unit/test_tcpreasm.c includes this file to replay the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcpreasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_BYTES (1u << 20)
#define FZ_MAX_FLOWS 3
#define FZ_MAX_FRAME 64

static void fz_frame(void *ud, const struct ctx_tcp_flow_info *flow, const struct ctx_sysframe_frame *fr) {
    uint64_t *n = ud;
    if (fr->len == 0 || fr->len > FZ_MAX_FRAME || flow->key->dport != 514 || flow->key->ip_version != 4) abort();
    unsigned sum = 0;
    for (size_t i = 0; i < fr->len; i++) sum += fr->data[i];
    *n += 1 + (sum & 1);
}

static void fz_check(const ctx_tcpreasm_t *r) {
    struct ctx_tcpreasm_stats st;
    ctx_tcpreasm_get_stats(r, &st);
    if (st.bytes_allocated > FZ_MAX_BYTES || st.bytes_in_use > st.bytes_allocated || st.flows_in_use > FZ_MAX_FLOWS)
        abort();
}

/* build the packet of one record; returns the bytes the record used, 0 at the end */
static size_t fz_record(const uint8_t *d, size_t size, struct ctx_pkt *p, uint64_t *now) {
    static const uint64_t steps[4] = {0, 1, 150, 2000};
    if (size < 4) return 0;
    uint8_t h0 = d[0];
    size_t len = d[1] < size - 4 ? d[1] : size - 4;
    uint32_t off = (uint32_t)(d[2] << 8 | d[3]);
    uint32_t isn = 0xffffff00u + (uint32_t)(h0 & 3) * 16;
    memset(p, 0, sizeof(*p));
    p->ip_version = 4;
    p->proto = 6;
    p->src.s6_addr[10] = p->src.s6_addr[11] = 0xff;
    p->src.s6_addr[15] = (uint8_t)(10 + (h0 & 3));
    p->dst.s6_addr[10] = p->dst.s6_addr[11] = 0xff;
    p->dst.s6_addr[15] = 1;
    p->sport = (uint16_t)(40000 + (h0 & 3));
    p->dport = 514;
    p->tcp.flags = (uint8_t)(((h0 >> 2) & 1 ? CTX_PKT_TCP_SYN : CTX_PKT_TCP_ACK) |
                             ((h0 >> 3) & 1 ? CTX_PKT_TCP_FIN : 0) | ((h0 >> 4) & 1 ? CTX_PKT_TCP_RST : 0));
    p->tcp.seq = (h0 >> 2) & 1 ? isn : isn + 1 + off;
    p->payload = d + 4;
    p->payload_len = len;
    p->payload_wire_len = len + ((h0 & 0x80) ? 16 : 0);
    p->truncated = (h0 & 0x80) != 0;
    *now += steps[(h0 >> 5) & 3];
    return 4 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ctx_tcpreasm_cfg cfg;
    uint64_t frames = 0, now = 1000;
    ctx_tcpreasm_cfg_defaults(&cfg);
    cfg.max_bytes = FZ_MAX_BYTES;
    cfg.max_flows = FZ_MAX_FLOWS;
    cfg.max_frame = FZ_MAX_FRAME;
    cfg.flow_max_bytes = (128u << 10) + 128;
    cfg.window = 1u << 16;
    cfg.gap_timeout_ms = 100;
    cfg.idle_timeout_ms = 1000;
    cfg.embryonic_timeout_ms = 500;
    cfg.linger_ms = 300;
    cfg.gap_emit = size > 0 && (data[0] & 1);
    cfg.on_frame = fz_frame;
    cfg.ud = &frames;
    ctx_tcpreasm_t *r = NULL;
    if (ctx_tcpreasm_new(&cfg, &r, NULL, 0) != 0) abort();
    struct ctx_pkt p;
    struct timeval ts = {1700000000, 0};
    size_t used;
    while ((used = fz_record(data, size, &p, &now)) > 0) {
        data += used;
        size -= used;
        if (ctx_tcpreasm_packet(r, (p.src.s6_addr[15] & 1) ? "vnet1" : "vnet0", &ts, now, &p) != 0) abort();
        fz_check(r);
    }
    ctx_tcpreasm_expire(r, now + 1);
    fz_check(r);
    ctx_tcpreasm_flush(r);
    struct ctx_tcpreasm_stats st;
    ctx_tcpreasm_get_stats(r, &st);
    if (st.flows_in_use != 0) abort();
    ctx_tcpreasm_free(r);
    return 0;
}
