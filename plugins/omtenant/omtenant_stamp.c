/* omtenant_stamp.c: each tenant's spool is bound to the tenant and destination it was
 * written for (common/deliver/spool_stamp.h). At start a spool stamped for another destination
 * is moved aside (quarantined, counted, logged), never sent; at HUP a tenant whose
 * destination changed while it still holds batches keeps its running configuration, unless
 * its format changed too: then those batches keep the transport they were made for
 * (delivery.h, ctx_dest_transport_t.formats) and go where they were going.
 *
 * Concurrency: rsyslog's activation thread (start) and HUP thread, one at a time.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdio.h>
#include <string.h>

#include "errmsg.h"
#include "module-template.h"

#include "omtenant.h"
#include "spool_stamp.h"

/* "https://...", "<format>+https://..." for the record formats (a spool of elasticsearch
 * bodies must not go to a Loki URL), or "syslog-tls://host:port" / "plain-tcp://host:port" */
static void destination(const ctx_tenant_t *t, char *out, size_t outlen) {
    if (t->transport == CTX_TRANSPORT_HTTPS && ctx_fmt_grouping(t->format))
        snprintf(out, outlen, "%s+%s", ctx_fmt_name(t->format), t->url);
    else if (t->transport == CTX_TRANSPORT_HTTPS)
        snprintf(out, outlen, "%s", t->url);
    else
        snprintf(out, outlen, "%s://%s:%u", t->transport == CTX_TRANSPORT_SYSLOG_TLS ? "syslog-tls" : "plain-tcp",
                 t->host, t->port);
}

int omt_stamp_before_open(instanceData *pData, const ctx_tenant_t *t, const char *spool, char *stamp, size_t len) {
    char dest[4200], moved[4200], err[CTX_ERRLEN] = "";
    destination(t, dest, sizeof dest);
    if (ctx_spool_stamp_make(t->id, dest, stamp, len) != 0) {
        LogError(0, RS_RET_ERR, "omtenant: tenant '%s': cannot make its spool stamp", t->id);
        return -1;
    }
    int rc = ctx_spool_stamp_check(spool, stamp, moved, sizeof moved, err, sizeof err);
    if (rc < 0) {
        LogError(0, RS_RET_ERR, "omtenant: tenant '%s': %s", t->id, err);
        return -1;
    }
    if (rc == 1) {
        omt_add(&pData->mctr_val[OMT_MC_SPOOL_QUARANTINED], 1);
        LogError(0, RS_RET_ERR,
                 "omtenant: tenant '%s': its spool was written for another tenant or destination (now %s): moved to "
                 "%s, not sent; a new spool is started",
                 t->id, dest, moved);
    }
    return 0;
}

void omt_stamp_after_open(const ctx_tenant_t *t, const char *spool, const char *stamp) {
    char err[CTX_ERRLEN] = "";
    if (ctx_spool_stamp_write(spool, stamp, err, sizeof err) != 0)
        LogError(0, RS_RET_ERR, "omtenant: tenant '%s': %s", t->id, err);
}

/* HUP, before anything changes: a new destination is taken only by an empty pipeline, or with a new format */
int omt_stamp_reload_check(omt_tenant_t *ot, const ctx_tenant_t *t, char *err, size_t errlen) {
    char stamp[CTX_SPOOL_STAMP_LEN], dest[4200];
    destination(t, dest, sizeof dest);
    if (ctx_spool_stamp_make(t->id, dest, stamp, sizeof stamp) != 0 || strcmp(stamp, ot->stamp) == 0) return 0;
    ctx_dest_stats_t st;
    ctx_dest_stats(ot->dest, &st);
    unsigned long long pending = (unsigned long long)(st.spool_records + st.held_batches);
    /* a new format: the pending batches keep their own transport, unless it is one the tenant
     * had at another destination: batches of it would go to the new one */
    int back = t->body != ot->body;
    const char *was = ot->fmt_stamp[t->body & 15];
    if (pending == 0 || (back && (was[0] == '\0' || strcmp(was, stamp) == 0))) return 0;
    snprintf(err, errlen, "tenant '%s': %s%s while %llu batches %s are pending; they are never sent elsewhere: %s",
             t->id, back ? "its format changes back to one it had at another destination, now " :
             "its destination changed to ", dest, pending, back ? "(some perhaps for the earlier one)" :
             "for the previous one", back ? "restore that destination, or change the format once they are delivered" :
             "restart rsyslogd to move them aside (quarantine), or restore the destination");
    return -1;
}

/* HUP, once the new configuration is taken: the spool stamped for the new destination */
void omt_stamp_reload_apply(instanceData *pData, omt_tenant_t *ot, const ctx_tenant_t *t) {
    char stamp[CTX_SPOOL_STAMP_LEN], dest[4200], spool[4096], err[CTX_ERRLEN] = "";
    ot->body = t->body;
    destination(t, dest, sizeof dest);
    if (ctx_spool_stamp_make(t->id, dest, stamp, sizeof stamp) != 0 || strcmp(stamp, ot->stamp) == 0) return;
    snprintf(ot->fmt_stamp[t->body & 15], sizeof ot->fmt_stamp[0], "%s", stamp);
    snprintf(spool, sizeof spool, "%s/%s", pData->spool_dir, t->id);
    if (ctx_spool_stamp_write(spool, stamp, err, sizeof err) != 0)
        LogError(0, RS_RET_ERR, "omtenant: tenant '%s': %s", t->id, err);
    snprintf(ot->stamp, sizeof ot->stamp, "%s", stamp);
}
