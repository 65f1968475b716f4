/* omtenant_transport.c: a tenant's transport for its delivery pipeline, made from its
 * entry of the tenants file: syslog over TLS / plain TCP (common/deliver/tls_client.h) or
 * HTTPS POST (common/deliver/https_post.h), with the outcome classified for delivery.
 *
 * Concurrency: a transport is created on the config / HUP thread and then used by
 * the tenant's sender thread only (common/deliver/delivery.h).
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

#include "fmt.h"
#include "fmt_reply.h"
#include "https_post.h"
#include "tls_client.h"

#include "omtenant.h"

/* ---------------------------------------------------------------- syslog-tls / plain-tcp */

static ctx_send_result_t tls_send(void *arg, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info) {
    (void)tag;
    ctx_tls_client_t *c = arg;
    if (ctx_tls_client_send(c, body, len, info->err, sizeof info->err) == 0) return CTX_SEND_OK;
    info->tls_failure = ctx_tls_client_failure(c) == CTX_TLS_FAIL_TLS;
    return CTX_SEND_RETRY;
}

static void tls_close(void *arg) {
    ctx_tls_client_close(arg);
}

static void tls_free(void *arg) {
    ctx_tls_client_free(arg);
}

static int tls_transport(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                         size_t errlen) {
    ctx_tls_opts_t o;
    memset(&o, 0, sizeof o);
    o.host = t->host;
    o.port = t->port;
    o.plaintext = t->transport == CTX_TRANSPORT_PLAIN_TCP;
    o.tls = t->tls;
    o.connect_timeout_ms = (unsigned)pData->connect_timeout_ms;
    o.io_timeout_ms = (unsigned)pData->send_timeout_ms;
    ctx_tls_client_t *c = NULL;
    int rc = ctx_tls_client_new(&o, &c, err, errlen);
    if (rc != 0) return rc;
    out->send = tls_send;
    out->close = tls_close;
    out->free = tls_free;
    out->arg = c;
    out->formats = 1u << t->body;
    return 0;
}

/* ---------------------------------------------------------------- https */

#define REPLY_MAX ((size_t)32 << 20) /* the largest reply a format reads (a bulk reply of ~100k items) */

/* one tenant's HTTPS transport: the client and, for formats that read replies, what splitting needs */
typedef struct {
    ctx_https_t *h;
    ctx_https_t *ack;          /* splunk-hec with a channel: POSTs to /services/collector/ack */
    unsigned ack_timeout_ms;   /* how long to wait for the indexer acknowledgement */
    ctx_fmt_t fmt;
    int level;                 /* compression level of the bodies it splits */
    ctx_batch_encoder_t *enc;  /* made on the first split */
} https_tr_t;

static void sleep_ms(unsigned ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Splunk HEC with a channel: the batch counts as delivered once /services/collector/ack says
 * its ackId was indexed; no acknowledgement within ack_timeout_ms (or a reply that cannot be
 * read) sends it again, as Splunk's documentation says to */
static ctx_send_result_t hec_wait_ack(https_tr_t *t, ctx_send_info_t *info) {
    size_t rlen;
    uint64_t id = 0;
    const char *reply = ctx_https_reply(t->h, &rlen, NULL);
    int rc = ctx_fmt_hec_ack_id(reply, rlen, &id);
    if (rc == 0) return CTX_SEND_OK; /* the token does not use acknowledgement */
    if (rc < 0) {
        snprintf(info->err, sizeof info->err, "HEC reply without a readable ackId: sent again");
        return CTX_SEND_RETRY;
    }
    char body[64];
    int n = snprintf(body, sizeof body, "{\"acks\":[%llu]}", (unsigned long long)id);
    for (unsigned waited = 0, step = 100; waited < t->ack_timeout_ms; waited += step, step = step < 1000 ? step * 2 : 1000) {
        sleep_ms(step);
        long status = 0;
        if (ctx_https_post(t->ack, body, (size_t)n, &status, NULL, info->err, sizeof info->err) != 0) return CTX_SEND_RETRY;
        if (ctx_https_classify(status) != CTX_HTTPS_DELIVERED) return CTX_SEND_RETRY;
        reply = ctx_https_reply(t->ack, &rlen, NULL);
        if ((rc = ctx_fmt_hec_ack_done(reply, rlen, id)) == 1) return CTX_SEND_OK;
        if (rc < 0) {
            snprintf(info->err, sizeof info->err, "HEC acknowledgement reply for ackId %llu not understood: sent again",
                     (unsigned long long)id);
            return CTX_SEND_RETRY;
        }
    }
    snprintf(info->err, sizeof info->err, "HEC indexer acknowledgement for ackId %llu not given within %u ms: sent again",
             (unsigned long long)id, t->ack_timeout_ms);
    return CTX_SEND_RETRY;
}

static ctx_send_result_t https_send(void *arg, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info) {
    https_tr_t *t = arg;
    long status = 0;
    int rc = ctx_https_post(t->h, body, len, &status, &info->retry_after_ms, info->err, sizeof info->err);
    if (rc != 0) {
        info->tls_failure = ctx_https_failure(t->h) == CTX_HTTPS_FAIL_TLS;
        return CTX_SEND_RETRY;
    }
    switch (ctx_https_classify(status)) {
    case CTX_HTTPS_DELIVERED:
        break;
    case CTX_HTTPS_RETRY:
        return CTX_SEND_RETRY;
    default:
        return CTX_SEND_REJECT;
    }
    if (t->ack != NULL) return hec_wait_ack(t, info);
    if (t->fmt != CTX_FMT_ELASTICSEARCH && t->fmt != CTX_FMT_OTLP && t->fmt != CTX_FMT_OTLP_JSON) return CTX_SEND_OK;
    if (t->enc == NULL && ctx_batch_encoder_new(&t->enc) != 0) return CTX_SEND_RETRY;
    size_t rlen;
    int truncated;
    const char *reply = ctx_https_reply(t->h, &rlen, &truncated);
    return ctx_fmt_reply(t->fmt, reply, rlen, truncated, body, len, tag, t->enc, t->level, info);
}

static void https_free(void *arg) {
    https_tr_t *t = arg;
    if (t == NULL) return;
    ctx_https_free(t->h);
    ctx_https_free(t->ack);
    ctx_batch_encoder_free(t->enc);
    free(t);
}

static int has_header(const ctx_tenant_t *t, const char *name) {
    for (size_t i = 0; i < t->nheaders; i++)
        if (strcasecmp(t->headers[i].name, name) == 0) return 1;
    return 0;
}

/* the configured headers (at most 64), then what the format adds: Loki's tenant
 * (X-Scope-OrgID: the tenant id, unless configured), Splunk's ack channel */
static size_t fill_headers(const ctx_tenant_t *t, ctx_https_header_t *hdrs) {
    size_t nh = t->nheaders < 64 ? t->nheaders : 64;
    for (size_t i = 0; i < nh; i++) hdrs[i].name = t->headers[i].name, hdrs[i].value = t->headers[i].value;
    if (t->format == CTX_FMT_LOKI && !has_header(t, "X-Scope-OrgID"))
        hdrs[nh].name = "X-Scope-OrgID", hdrs[nh++].value = t->id;
    if (t->format == CTX_FMT_SPLUNK_HEC && t->hec_channel != NULL)
        hdrs[nh].name = "X-Splunk-Request-Channel", hdrs[nh++].value = t->hec_channel;
    return nh;
}

/* the acknowledgement client: the same TLS, token and channel, URL .../services/collector/ack?channel=GUID */
static int hec_ack_client(const ctx_https_opts_t *event_opts, const ctx_tenant_t *t, https_tr_t *tr, char *err,
                          size_t errlen) {
    static const char ev[] = "/event";
    size_t n = strlen(t->url);
    char *url = malloc(n + 64);
    if (url == NULL) return CTX_ENOMEM;
    memcpy(url, t->url, n + 1);
    if (n >= sizeof ev - 1 && strcmp(url + n - (sizeof ev - 1), ev) == 0) n -= sizeof ev - 1;
    snprintf(url + n, 64, "/ack?channel=%s", t->hec_channel); /* a GUID (checked at load) */
    ctx_https_opts_t o = *event_opts;
    o.url = url;
    o.content_type = "application/json";
    o.content_encoding = NULL;
    o.reply_max = 64 << 10;
    tr->ack_timeout_ms = event_opts->timeout_ms ? event_opts->timeout_ms : 30000;
    int rc = ctx_https_new(&o, &tr->ack, err, errlen);
    free(url);
    return rc;
}

static ctx_https_auth_t auth_of(const ctx_tenant_t *t) {
    if (t->format == CTX_FMT_SPLUNK_HEC) return CTX_HTTPS_AUTH_SPLUNK;
    return t->auth == CTX_AUTH_BEARER ? CTX_HTTPS_AUTH_BEARER
           : t->auth == CTX_AUTH_BASIC ? CTX_HTTPS_AUTH_BASIC
                                       : CTX_HTTPS_AUTH_NONE;
}

static int https_transport(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                           size_t errlen) {
    ctx_https_opts_t o;
    ctx_https_header_t hdrs[66];
    size_t nh = fill_headers(t, hdrs);
    memset(&o, 0, sizeof o);
    o.url = t->url;
    o.allow_plaintext = t->allow_plaintext;
    o.content_type = ctx_fmt_content_type(t->format);
    o.content_encoding = t->encoding == CTX_ENC_NONE ? NULL : ctx_encoding_name(t->encoding);
    o.headers = hdrs;
    o.nheaders = nh;
    o.auth = auth_of(t);
    o.auth_user = t->auth_user;
    o.auth_file = t->format == CTX_FMT_SPLUNK_HEC ? t->hec_token_file : t->auth_file;
    o.reply_max = t->format == CTX_FMT_ELASTICSEARCH || t->format == CTX_FMT_OTLP || t->format == CTX_FMT_OTLP_JSON
                      ? REPLY_MAX
                      : 0;
    o.tls = t->tls;
    o.connect_timeout_ms = (unsigned)pData->connect_timeout_ms;
    o.timeout_ms = (unsigned)pData->send_timeout_ms;
    https_tr_t *tr = calloc(1, sizeof *tr);
    if (tr == NULL) return CTX_ENOMEM;
    tr->fmt = t->format;
    tr->level = t->encoding == CTX_ENC_GZIP ? (pData->level >= 1 && pData->level <= 9 ? pData->level : 6)
                                            : t->encoding == CTX_ENC_ZSTD ? pData->level : 0;
    if (t->format == CTX_FMT_SPLUNK_HEC && t->hec_channel != NULL) o.reply_max = 64 << 10; /* the ackId */
    int rc = ctx_https_new(&o, &tr->h, err, errlen);
    if (rc == 0 && t->format == CTX_FMT_SPLUNK_HEC && t->hec_channel != NULL) rc = hec_ack_client(&o, t, tr, err, errlen);
    if (rc != 0) {
        https_free(tr);
        return rc;
    }
    out->send = https_send;
    out->close = NULL;
    out->free = https_free;
    out->arg = tr;
    out->formats = 1u << t->body; /* batches of an earlier format keep the transport they were made for */
    return 0;
}

int omt_transport_new(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    if (t->transport == CTX_TRANSPORT_HTTPS) return https_transport(pData, t, out, err, errlen);
    return tls_transport(pData, t, out, err, errlen);
}
