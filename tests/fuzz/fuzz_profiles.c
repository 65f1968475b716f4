/* fuzz_profiles.c: the profiles loader from a memory buffer, plus the interface
 * glob matcher against glibc's fnmatch.
 *
 * Loader: any input must either load, and then every address, UUID and exact vNIC
 * of every VM must look up to that VM, or fail with one line starting "fuzz: ".
 * Glob: the input up to the first '\n' is a pattern, the rest a name; for every
 * pattern ctx_ifglob_check() accepts, ctx_ifglob_match_one() must agree with
 * fnmatch(pattern, name, 0).
 * Crashers go to tests/fuzz/corpus/profiles/ (replayed by tests/unit/test_profiles_errors.c).
 */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "ifglob.h"
#include "profiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vm(const ctx_profiles_t *p, const ctx_profile_t *v) {
    ctx_match_t how;
    for (uint32_t k = 0; k < v->n_macs; k++)
        if (ctx_profiles_by_mac(p, v->macs[k].addr, NULL) != v) abort();
    for (uint32_t k = 0; k < v->n_ips; k++)
        if (ctx_profiles_by_ip(p, v->ips[k].addr, NULL) != v) abort();
    for (uint32_t k = 0; k < v->n_vnics; k++)
        if (ctx_ifglob_check(v->vnics[k], NULL, 0) == 0 && ctx_profiles_by_vnic(p, v->vnics[k], &how) != v) abort();
    if (v->uuid != NULL && ctx_profiles_by_uuid(p, v->uuid) != v) abort();
    const ctx_profile_t *byname = ctx_profiles_by_name(p, v->tenant, v->name);
    if (byname == NULL || byname->index > v->index || strcmp(byname->name, v->name) != 0) abort();
    if (!ctx_tenant_id_valid(v->tenant)) abort();
}

static void fuzz_loader(const uint8_t *data, size_t size) {
    ctx_profiles_t *p = NULL;
    char err[CTX_ERRLEN];
    int r = ctx_profiles_load_buffer((const char *)data, size, "fuzz", &p, err, sizeof err);
    if (r == 0) {
        for (size_t i = 0; i < ctx_profiles_count(p); i++) check_vm(p, ctx_profiles_at(p, i));
        ctx_profiles_unref(p);
    } else if (p != NULL || strncmp(err, "fuzz: ", 6) != 0 || strchr(err, '\n') != NULL) {
        abort();
    }
}

static void fuzz_glob(const uint8_t *data, size_t size) {
    char buf[256];
    if (size >= sizeof buf || memchr(data, '\0', size) != NULL) return;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl == NULL) return;
    *nl = '\0';
    if (ctx_ifglob_check(buf, NULL, 0) < 0) return;
    if (ctx_ifglob_match_one(buf, nl + 1) != (fnmatch(buf, nl + 1, 0) == 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_loader(data, size);
    fuzz_glob(data, size);
    return 0;
}
