/* fuzz_ipfrag.c: libFuzzer target for the fragment reassembler.
 *
 * The input is a sequence of fragment records, each turned into the struct
 * ctx_pkt that ctx_pkt_decode() would return for such a fragment, and fed to one
 * small reassembler (8 KiB, 8 datagrams, 1 s, two scopes with a quota of 4 KiB
 * each) so that overlaps, evictions by the bound and by the quota, and timeouts
 * all happen. Record: 4 header bytes, then the fragment's data:
 *   h0  bits 0-1 datagram id, bit 2 "more fragments", bit 3 IPv6,
 *       bits 4-5 clock step before it (0, 1, 50 or 2000 ms), bit 6 scope
 *   h1 h2  big-endian: bits 0-12 offset / 8; bit 13: next header 60 (IPv6) / TCP (IPv4)
 *   h3  bits 0-5: data length / 8 - 1; bits 6-7: bytes less in a last fragment
 * After every call the bounds and the returned datagram are checked. The unit test
 * tests/unit/test_ipfrag.c includes this file to replay the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipfrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_BYTES 8192
#define FUZZ_MAX_DGRAMS 8

/* Build fragment *p from one record at data; returns the bytes the record used, 0 at the end. */
static size_t fuzz_frag_record(const uint8_t *data, size_t size, struct ctx_pkt *p, uint8_t *buf, uint64_t *now) {
    static const uint64_t steps[4] = {0, 1, 50, 2000};
    if (size < 4) return 0;
    uint8_t h0 = data[0], h3 = data[3];
    uint16_t h12 = (uint16_t)(data[1] << 8 | data[2]);
    int more = (h0 >> 2) & 1;
    size_t len = ((size_t)(h3 & 0x3f) + 1) * 8 - (more ? 0 : (size_t)(h3 >> 6));
    size_t avail = size - 4 < len ? size - 4 : len;
    memset(buf, 0, len);
    memcpy(buf, data + 4, avail);
    memset(p, 0, sizeof *p);
    p->ip_version = (h0 & 8) ? 6 : 4;
    p->src.s6_addr[15] = 1;
    p->dst.s6_addr[15] = 2;
    p->frag.is_fragment = 1;
    p->frag.more = (uint8_t)more;
    p->frag.id = h0 & 3;
    p->frag.offset = (uint32_t)(h12 & 0x1fff) * 8;
    p->frag.next = (h12 & 0x2000) ? (p->ip_version == 6 ? 60 : 6) : 17;
    p->proto = p->frag.next;
    p->frag.data = buf;
    p->frag.data_len = p->frag.data_wire_len = len;
    *now += steps[(h0 >> 4) & 3];
    return 4 + avail;
}

static void fuzz_frag_check(const struct ctx_ipfrag *f, int rc, const struct ctx_pkt *out) {
    struct ctx_ipfrag_stats st;
    ctx_ipfrag_get_stats(f, &st);
    if (st.bytes_in_use > FUZZ_MAX_BYTES || st.datagrams_in_use > FUZZ_MAX_DGRAMS) abort();
    if (rc > CTX_IPFRAG_COMPLETE || strcmp(ctx_ipfrag_strerror(rc), "unknown packet decoder result") == 0) abort();
    if (rc != CTX_IPFRAG_COMPLETE) return;
    if (!out->frag.reassembled || out->frag.is_fragment || out->truncated) abort();
    if (out->payload_len != out->payload_wire_len || (out->proto != IPPROTO_UDP && out->proto != IPPROTO_TCP)) abort();
    unsigned sum = 0;
    for (size_t i = 0; i < out->payload_len; i++) sum += out->payload[i];
    if (sum == 0xffffffffu) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t buf[512];
    struct ctx_ipfrag *f = ctx_ipfrag_new(FUZZ_MAX_BYTES, FUZZ_MAX_DGRAMS, 1000);
    if (f == NULL || ctx_ipfrag_set_scope_quota(f, FUZZ_MAX_BYTES / 2) != 0) abort();
    uint64_t now = 1000;
    struct ctx_pkt p, out;
    size_t used;
    while ((used = fuzz_frag_record(data, size, &p, buf, &now)) > 0) {
        uint32_t scope = (data[0] >> 6) & 1;
        data += used;
        size -= used;
        if (p.frag.offset + p.frag.data_len + (p.ip_version == 4 ? 20 : 0) > 65535) continue; /* decoder: EFRAG */
        int rc = ctx_ipfrag_add(f, &p, scope, now, &out);
        fuzz_frag_check(f, rc, &out);
    }
    ctx_ipfrag_expire(f, now + 5000);
    struct ctx_ipfrag_stats st;
    ctx_ipfrag_get_stats(f, &st);
    if (st.datagrams_in_use != 0 || st.bytes_in_use != 0) abort();
    ctx_ipfrag_free(f);
    return 0;
}
