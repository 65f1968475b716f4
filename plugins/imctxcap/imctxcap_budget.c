/* imctxcap_budget.c: the per-vNIC budget of imctxcap (vm.maxPacketsPerSecond,
 * vm.maxBytesPerSecond): each frame is charged to its vNIC's token buckets
 * (common/capture/vmbudget.c) before it is decoded; frames over the budget are dropped
 * and counted in packets.overbudget, and per VM (imctxcap_vmstats.c). docs/imctxcap.md, docs/threat-model.md.
 *
 * Concurrency: inst->budgets is built on the config thread; budgets[i] is then used
 * by capture worker i only (each worker its share of the rates: with PACKET_FANOUT a
 * VM's packets are spread over the workers). The counter is an atomic.
 */
#include "config.h"
#include "rsyslog.h"

#include <stdlib.h>
#include <time.h>

#include "msg.h"
#include "statsobj.h"

#include "capture.h"
#include "imctxcap.h"
#include "vmbudget.h"

rsRetVal imctxcap_budget_init(imctxcap_inst_t *inst) {
    DEFiRet;
    if (inst->vm_max_pps == 0 && inst->vm_max_bps == 0) FINALIZE;
    uint64_t n = (uint64_t)inst->n_workers; /* fanout spreads a VM's packets: each worker gets its share */
    CHKmalloc(inst->budgets = calloc((size_t)inst->n_workers, sizeof(*inst->budgets)));
    for (int i = 0; i < inst->n_workers; ++i) {
        uint64_t pps = (inst->vm_max_pps + n - 1) / n, bps = (inst->vm_max_bps + n - 1) / n;
        if (ctx_vmbudget_new(pps, bps, 1000, &inst->budgets[i]) != 0) ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
    }
finalize_it:
    RETiRet;
}

void imctxcap_budget_free(imctxcap_inst_t *inst) {
    for (int i = 0; inst->budgets != NULL && i < inst->n_workers; ++i) ctx_vmbudget_free(inst->budgets[i]);
    free(inst->budgets);
    inst->budgets = NULL;
}

/* the vNIC's packets/s and bytes/s budget: a flood is dropped here, before any work on it */
int imctxcap_within_budget(imctxcap_worker_t *w, const char *ifname, size_t wirelen) {
    if (w->inst->budgets == NULL || ctx_vmbudget_take(w->inst->budgets[w->index], ifname, wirelen, ctx_capture_round_ns(w->cap)))
        return 1;
    imctxcap_ctr_add(w->inst, IMCTXCAP_CTR_OVERBUDGET, 1);
    imctxcap_vmstats_overbudget(w, ifname);
    return 0;
}

void imctxcap_interface_gone(imctxcap_worker_t *w, const char *ifname) {
    if (w->inst->budgets != NULL) ctx_vmbudget_forget(w->inst->budgets[w->index], ifname);
    imctxcap_tcp_interface_gone(w, ifname);
}
