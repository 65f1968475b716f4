/* pcapreplay.h: replaying a hostile pcap in a unit test: tests/data/pcap/NAME.pcap
 * (under $top_srcdir, or .), packet by packet, each with its line of NAME.expect
 * ('#' lines skipped). A missing file, a packet without a line or a line left over
 * fails the test.
 *
 *     pcap_replay_t r;
 *     pcap_replay_open(&r, "hostile_decode");
 *     while (pcap_replay_next(&r, &h, &data)) { ... r.line, r.n ... }
 *     ASSERT_GE(pcap_replay_close(&r), 20);
 *
 * Header-only, for test_pktdecode.c and test_ipfrag.c; single thread.
 */
#ifndef CTXLOG_TESTS_PCAPREPLAY_H
#define CTXLOG_TESTS_PCAPREPLAY_H

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a result name of the .expect file and its code */
typedef struct {
    const char *name;
    int rc;
} pcap_replay_rc_t;

/* the code of name in t[0..n); an unknown name fails the test */
static int pcap_replay_rc(const pcap_replay_rc_t *t, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0) return t[i].rc;
    fail_msg("unknown result name %s in the .expect file", name);
    return 0;
}

typedef struct {
    pcap_t *pc;
    FILE *ex;
    char line[512]; /* the current packet's expectation */
    int n;          /* packets so far: the current one's number */
} pcap_replay_t;

static void pcap_replay_open(pcap_replay_t *r, const char *name) {
    char path[4096], errbuf[PCAP_ERRBUF_SIZE];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/tests/data/pcap/%s.expect", top != NULL ? top : ".", name);
    r->ex = fopen(path, "r");
    if (r->ex == NULL) fail_msg("cannot open %s", path);
    snprintf(path, sizeof path, "%s/tests/data/pcap/%s.pcap", top != NULL ? top : ".", name);
    r->pc = pcap_open_offline(path, errbuf);
    if (r->pc == NULL) fail_msg("%s: %s", path, errbuf);
    r->n = 0;
}

/* the next packet, with its line in r->line; 0 after the last */
static int pcap_replay_next(pcap_replay_t *r, struct pcap_pkthdr **h, const u_char **data) {
    if (pcap_next_ex(r->pc, h, data) != 1) return 0;
    do assert_non_null(fgets(r->line, sizeof r->line, r->ex));
    while (r->line[0] == '#');
    r->n++;
    return 1;
}

/* closes both files (as many expectations as packets); returns the packet count */
static int pcap_replay_close(pcap_replay_t *r) {
    pcap_close(r->pc);
    assert_null(fgets(r->line, sizeof r->line, r->ex));
    fclose(r->ex);
    return r->n;
}

#endif
