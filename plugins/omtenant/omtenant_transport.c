/* omtenant_transport.c: a tenant's transport for its delivery pipeline, made from its
 * entry of the tenants file: syslog over TLS / plain TCP (common/deliver/tls_client.h) or
 * HTTPS POST (common/deliver/https_post.h), with the outcome classified for delivery.
 *
 * Concurrency: a transport is created on the config / HUP thread and then used by
 * the tenant's sender thread only (common/deliver/delivery.h).
 */
#include "config.h"
#include "rsyslog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    return 0;
}

/* ---------------------------------------------------------------- https */

#define REPLY_MAX ((size_t)32 << 20) /* the largest reply a format reads (a bulk reply of ~100k items) */

/* one tenant's HTTPS transport: the client and, for formats that read replies, what splitting needs */
typedef struct {
    ctx_https_t *h;
    ctx_fmt_t fmt;
    int level;                 /* compression level of the bodies it splits */
    ctx_batch_encoder_t *enc;  /* made on the first split */
} https_tr_t;

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
    int rc = ctx_https_new(&o, &tr->h, err, errlen);
    if (rc != 0) {
        free(tr);
        return rc;
    }
    out->send = https_send;
    out->close = NULL;
    out->free = https_free;
    out->arg = tr;
    return 0;
}

int omt_transport_new(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    if (t->transport == CTX_TRANSPORT_HTTPS) return https_transport(pData, t, out, err, errlen);
    return tls_transport(pData, t, out, err, errlen);
}
