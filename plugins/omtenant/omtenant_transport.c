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

static ctx_send_result_t https_send(void *arg, const void *body, size_t len, uint32_t tag, ctx_send_info_t *info) {
    (void)tag;
    ctx_https_t *h = arg;
    long status = 0;
    int rc = ctx_https_post(h, body, len, &status, &info->retry_after_ms, info->err, sizeof info->err);
    if (rc != 0) {
        info->tls_failure = ctx_https_failure(h) == CTX_HTTPS_FAIL_TLS;
        return CTX_SEND_RETRY;
    }
    switch (ctx_https_classify(status)) {
    case CTX_HTTPS_DELIVERED:
        return CTX_SEND_OK;
    case CTX_HTTPS_RETRY:
        return CTX_SEND_RETRY;
    default:
        return CTX_SEND_REJECT;
    }
}

static void https_free(void *arg) {
    ctx_https_free(arg);
}

static int https_transport(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                           size_t errlen) {
    ctx_https_opts_t o;
    ctx_https_header_t hdrs[64];
    size_t nh = t->nheaders < 64 ? t->nheaders : 64; /* the tenants file allows at most 64 */
    for (size_t i = 0; i < nh; i++) hdrs[i].name = t->headers[i].name, hdrs[i].value = t->headers[i].value;
    memset(&o, 0, sizeof o);
    o.url = t->url;
    o.allow_plaintext = t->allow_plaintext;
    o.content_type = t->body == CTX_BATCH_JSON_ARRAY ? "application/json" : "application/x-ndjson";
    o.content_encoding = t->encoding == CTX_ENC_NONE ? NULL : ctx_encoding_name(t->encoding);
    o.headers = hdrs;
    o.nheaders = nh;
    o.auth = t->auth == CTX_AUTH_BEARER ? CTX_HTTPS_AUTH_BEARER
             : t->auth == CTX_AUTH_BASIC ? CTX_HTTPS_AUTH_BASIC
                                         : CTX_HTTPS_AUTH_NONE;
    o.auth_user = t->auth_user;
    o.auth_file = t->auth_file;
    o.tls = t->tls;
    o.connect_timeout_ms = (unsigned)pData->connect_timeout_ms;
    o.timeout_ms = (unsigned)pData->send_timeout_ms;
    ctx_https_t *h = NULL;
    int rc = ctx_https_new(&o, &h, err, errlen);
    if (rc != 0) return rc;
    out->send = https_send;
    out->close = NULL;
    out->free = https_free;
    out->arg = h;
    return 0;
}

int omt_transport_new(const instanceData *pData, const ctx_tenant_t *t, ctx_dest_transport_t *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    if (t->transport == CTX_TRANSPORT_HTTPS) return https_transport(pData, t, out, err, errlen);
    return tls_transport(pData, t, out, err, errlen);
}
