/* fuzz_pktdecode.c: libFuzzer target for ctx_pkt_decode().
 *
 * The input is one captured frame. It is decoded twice: as a whole frame
 * (wirelen == caplen) and as a frame cut by a snap length (wirelen larger), and
 * every result is checked against the decoder's contract (pointers inside the
 * frame, lengths consistent, a known result code). The unit test
 * tests/unit/test_pktdecode.c includes this file to replay the corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pktdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pkt_check(const uint8_t *frame, size_t caplen, size_t wirelen) {
    struct ctx_pkt p;
    char buf[CTX_PKT_ADDRSTRLEN];
    int rc = ctx_pkt_decode(frame, caplen, wirelen, &p);
    if (rc > CTX_PKT_FRAGMENT || rc < CTX_PKT_RC_MIN || rc == CTX_PKT_EINVAL) abort();
    if (strcmp(ctx_pkt_strerror(rc), "unknown packet decoder result") == 0) abort();
    if (rc == CTX_PKT_OK) {
        if (p.payload < frame || p.payload > frame + caplen || p.payload_len > (size_t)(frame + caplen - p.payload))
            abort();
        if (p.payload_len > p.payload_wire_len || p.truncated != (p.payload_len < p.payload_wire_len)) abort();
        if (p.proto != IPPROTO_UDP && p.proto != IPPROTO_TCP) abort();
        if (p.frag.is_fragment) abort();
        unsigned sum = 0;
        for (size_t i = 0; i < p.payload_len; i++) sum += p.payload[i];
        if (sum == 0xffffffffu) abort(); /* keeps the reads */
    }
    if (rc == CTX_PKT_FRAGMENT) {
        const struct ctx_pkt_frag *fr = &p.frag;
        if (!fr->is_fragment || fr->data < frame || fr->data_len > (size_t)(frame + caplen - fr->data)) abort();
        if (fr->data_len > fr->data_wire_len || fr->data_wire_len == 0 || p.payload != NULL) abort();
        if (fr->offset + fr->data_wire_len > 65535) abort();
    }
    if (rc == CTX_PKT_OK || rc == CTX_PKT_FRAGMENT) {
        if (p.ip_version != 4 && p.ip_version != 6) abort();
        if (ctx_pkt_addr_ntop(p.ip_version, &p.src, buf, sizeof buf) <= 0) abort();
        if (p.vlan_count > CTX_PKT_MAX_VLANS || p.exthdr_count > CTX_PKT_MAX_EXTHDRS) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_pkt_check(data, size, size);
    fuzz_pkt_check(data, size, size + 1500);
    return 0;
}
