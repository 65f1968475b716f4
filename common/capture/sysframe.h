/* sysframe.h: syslog-over-TCP framing (RFC 6587) of one byte stream, as rsyslog's imtcp frames it.
 *
 * A stream is split into frames by one of two framings, detected at the stream's
 * first frame the way imtcp detects it (a digit: octet counting; anything else:
 * non-transparent) and then kept for the whole stream:
 * - octet counting (RFC 6587 3.4.1): "LEN SP MSG", LEN 1..max_octet_count;
 * - non-transparent (RFC 6587 3.4.2): MSG ended by LF, or also by NUL when
 *   nul_delimiter is set. Empty frames (two delimiters in a row) are skipped.
 * imtcp re-detects the framing at every frame; a capture must not be derailed by
 * one bad header, so here a malformed header of an octet-counted stream is a
 * framing error that starts a resynchronisation instead (see below).
 *
 * Frames longer than max_frame are truncated: their first max_frame bytes are
 * emitted with truncated=1 and the rest is skipped, so the stream stays in sync
 * (octet counting: by the count; non-transparent: to the next delimiter).
 *
 * Gaps (bytes of the stream that were never captured) are reported with
 * ctx_sysframe_gap(). They never splice two messages: a frame cut by a gap is
 * dropped or emitted with partial=1 (gap_emit), and framing resumes at the next
 * frame boundary: octet counting stays in sync when the gap ends inside the frame
 * whose length is known (the rest of it is skipped), otherwise the stream resynchronises.
 *
 * Resynchronisation (after a gap, a framing error, or for a stream joined in the
 * middle) looks for the next recognisable frame start:
 * - non-transparent: "<PRI>" (1-3 digits) right after a delimiter, or at the
 *   resynchronisation origin (the first byte after the gap / the first byte seen);
 *   a stream already known to be non-transparent also resumes right after the next
 *   delimiter, whatever follows it;
 * - octet counting: "LEN SP <PRI>", anywhere (the origin included). It is only a
 *   candidate: the frame is held until the bytes right after it are again
 *   "LEN SP <", or the stream ends exactly there; every suffix of the digit run is
 *   tried as LEN, shortest first (the previous message may end in digits, and a gap
 *   may end inside a digit run). A candidate that is not confirmed is dropped and
 *   the search goes on after it; candidates longer than max_frame are not
 *   considered. So a frame after a gap is emitted one frame late, never spliced.
 * Bytes passed over are counted (bytes_skipped).
 *
 * Memory: a frame that lies whole inside the bytes of one ctx_sysframe_feed() call
 * is emitted from those bytes (no copy). Only a frame split between calls is
 * copied into a per-stream buffer of at most max_frame + 16 bytes, taken from the
 * buf_alloc callback (the TCP reassembler passes its bounded pool) and given back
 * as soon as the frame is emitted. If buf_alloc fails, the frame is emitted
 * truncated at what fits (counted in alloc_failures).
 *
 * Concurrency: a ctx_sysframe_t holds the configuration and counters; it is used by
 * one thread (or under the caller's lock); ctx_sysframe_get_stats() may be called
 * from any thread. Each stream state belongs to one stream. Callbacks run on the
 * calling thread, inside the call; they must not call into the same stream.
 */
#ifndef CTXLOG_SYSFRAME_H
#define CTXLOG_SYSFRAME_H

#include <stddef.h>
#include <stdint.h>

/* framing of a frame (ctx_sysframe_frame.framing) and of a stream */
enum ctx_sysframe_framing {
    CTX_SYSFRAME_UNKNOWN = 0, /* stream: not detected yet */
    CTX_SYSFRAME_OCTET = 1,   /* octet counting */
    CTX_SYSFRAME_LF = 2,      /* non-transparent; frame: ended by LF, by a gap or by the end of the stream */
    CTX_SYSFRAME_NUL = 3,     /* frame: non-transparent, ended by NUL (nul_delimiter) */
};

/* How a stream ends (ctx_sysframe_end). */
enum ctx_sysframe_end {
    CTX_SYSFRAME_END_CLEAN = 0, /* FIN or RST: an unterminated non-transparent frame is emitted as is (as imtcp
                                   does at close); an incomplete octet-counted one is a partial frame */
    CTX_SYSFRAME_END_LOST = 1,  /* the rest is unknown (idle timeout, eviction): any open frame is partial */
};

/* One frame, handed to the emit callback. data is borrowed: valid during the call only. */
struct ctx_sysframe_frame {
    const uint8_t *data; /* the message: without octet count and without delimiter */
    size_t len;          /* 1 .. max_frame */
    uint8_t framing;     /* CTX_SYSFRAME_OCTET, _LF or _NUL */
    uint8_t truncated;   /* longer than max_frame: data is its first max_frame bytes */
    uint8_t partial;     /* cut short by a gap or a lost stream end: data is its beginning (gap_emit) */
};

typedef void (*ctx_sysframe_emit_fn)(void *ud, const struct ctx_sysframe_frame *frame);

/* Buffer source. alloc returns at least `want` bytes and stores their real size in *cap,
 * or NULL; release gets the same pointer and cap back. */
typedef void *(*ctx_sysframe_alloc_fn)(void *ud, size_t want, size_t *cap);
typedef void (*ctx_sysframe_release_fn)(void *ud, void *p, size_t cap);

struct ctx_sysframe_cfg {
    size_t max_frame;       /* rsyslog's maxMessageSize: 16 .. 16 MiB */
    size_t max_octet_count; /* largest LEN accepted (imtcp's maxFrameSize, 200000); >= max_frame, <= 2^31 - 1 */
    int nul_delimiter;      /* 1: NUL also ends a non-transparent frame */
    int gap_emit;           /* 1: a frame cut by a gap is emitted with partial=1; 0: dropped */
    ctx_sysframe_alloc_fn buf_alloc;     /* NULL: malloc */
    ctx_sysframe_release_fn buf_release; /* NULL: free */
    void *buf_ud;
};

/* Counters since ctx_sysframe_new(). */
struct ctx_sysframe_stats {
    uint64_t frames_octet;     /* frames emitted, by framing (partial and truncated ones included) */
    uint64_t frames_lf;
    uint64_t frames_nul;
    uint64_t truncated;        /* frames longer than max_frame, emitted cut */
    uint64_t partial_emitted;  /* frames cut by a gap or lost end, emitted with partial=1 */
    uint64_t partial_dropped;  /* idem, dropped (gap_emit 0, or nothing of them captured) */
    uint64_t empty;            /* empty non-transparent frames skipped */
    uint64_t framing_errors;   /* octet-counted stream: bad LEN (non-digit, 0, too large, > 10 digits, no SP) */
    uint64_t resyncs;          /* resynchronisations that found a frame start */
    uint64_t resync_rejects;   /* held octet-counting candidates not confirmed */
    uint64_t bytes_skipped;    /* bytes passed over: resynchronisation, bad headers, dropped partial frames */
    uint64_t bytes_truncated;  /* bytes cut off truncated frames */
    uint64_t alloc_failures;   /* frames cut because buf_alloc failed */
};

/* Per-stream state. Embed it in the caller's flow; the fields are private to sysframe.c.
 * A zeroed struct is a stream at its start with unknown framing (same as
 * ctx_sysframe_stream_init(s, 1)). */
struct ctx_sysframe_stream {
    uint8_t *buf;        /* partial frame (or held candidate), from buf_alloc; NULL when none */
    uint32_t buf_len;
    uint32_t buf_cap;
    uint32_t remain;     /* octet counting: body bytes still to come, or to skip */
    uint32_t count;      /* LEN being parsed */
    uint8_t state;
    uint8_t framing;     /* enum ctx_sysframe_framing of the stream */
    uint8_t ndigits;     /* digits of LEN parsed */
    uint8_t rs_state;    /* resynchronisation scanner */
    uint8_t rs_kind;
    uint8_t rs_hlen;
    uint8_t rs_npri;
    uint8_t rs_prev;     /* class of the byte before: 0 other, 1 digit, 2 delimiter, 3 origin */
    uint8_t rs_nhyp;
    uint8_t skip_gap;    /* ST_SKIP passes over the rest of a frame cut by a gap (not a truncation) */
    uint8_t rs_hdr[18];
    uint32_t rs_hyp[10]; /* held candidate: possible frame lengths, ascending */
};

typedef struct ctx_sysframe ctx_sysframe_t;

/* Create a framer context. cfg is copied. Returns 0, CTX_ENOMEM, or CTX_EINVAL with
 * err naming the out-of-range field. *out is owned by the caller: ctx_sysframe_free() it. */
int ctx_sysframe_new(const struct ctx_sysframe_cfg *cfg, ctx_sysframe_t **out, char *err, size_t errlen);

/* Free the context (not the streams' buffers: end each stream first). NULL is a no-op. */
void ctx_sysframe_free(ctx_sysframe_t *f);

/* (Re)initialise a stream. at_start 1: the next byte is the first of the stream;
 * 0: the stream was joined in the middle, resynchronise (origin = the next byte).
 * The stream must not hold a buffer (new, or after ctx_sysframe_end). */
void ctx_sysframe_stream_init(struct ctx_sysframe_stream *s, int at_start);

/* Feed the next len bytes of the stream (borrowed during the call); every frame they
 * complete is passed to emit(ud, frame) before the call returns. Never fails:
 * allocation failures truncate (see above). */
void ctx_sysframe_feed(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, const uint8_t *data, size_t len,
                       ctx_sysframe_emit_fn emit, void *ud);

/* The next `lost` (> 0) bytes of the stream were not captured. Emits (or drops) the
 * frame the gap cuts, then stays in sync or resynchronises. lost 0 is a no-op. */
void ctx_sysframe_gap(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, uint64_t lost, ctx_sysframe_emit_fn emit,
                      void *ud);

/* The stream ends (enum ctx_sysframe_end). Emits what the end completes, releases the
 * buffer; the stream is then as after ctx_sysframe_stream_init(s, 1). */
void ctx_sysframe_end(ctx_sysframe_t *f, struct ctx_sysframe_stream *s, int how, ctx_sysframe_emit_fn emit,
                      void *ud);

/* Bytes of buffer the stream holds now (its buf_alloc capacity). */
size_t ctx_sysframe_stream_mem(const struct ctx_sysframe_stream *s);

/* The stream's framing: CTX_SYSFRAME_UNKNOWN, _OCTET or _LF. */
int ctx_sysframe_stream_framing(const struct ctx_sysframe_stream *s);

/* 1 while the stream is resynchronising (between frames it cannot place). */
int ctx_sysframe_stream_resyncing(const struct ctx_sysframe_stream *s);

/* Copy the counters (f NULL: zeros). Any thread; each counter is read atomically. */
void ctx_sysframe_get_stats(const ctx_sysframe_t *f, struct ctx_sysframe_stats *st);

/* "octet-counting", "lf", "nul" or "unknown". Never NULL. */
const char *ctx_sysframe_framing_name(int framing);

#endif
