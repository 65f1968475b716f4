/* fuzz_tenants: any bytes as a tenants file: loads or fails with one line; a
 * loaded set answers lookups for every id it holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"
#include "tenants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[CTX_ERRLEN];
    ctx_tenants_t *t = NULL;
    int rc = ctx_tenants_parse((const char *)data, size, "fuzz.json", "/nonexistent", &t, err, sizeof err);
    if (rc != 0) {
        if (t != NULL || err[0] == '\0' || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    for (size_t i = 0; i < ctx_tenants_count(t); i++) {
        const ctx_tenant_t *e = ctx_tenants_at(t, i);
        if (!ctx_tenants_id_ok(e->id, strlen(e->id)) || ctx_tenants_get(t, e->id, strlen(e->id)) != e)
            abort();
        if (e->transport == CTX_TRANSPORT_HTTPS ? e->url == NULL : e->host == NULL)
            abort();
    }
    for (size_t i = 0; i < ctx_tenants_warning_count(t); i++)
        if (strchr(ctx_tenants_warning(t, i), '\n') != NULL)
            abort();
    ctx_tenants_get(t, (const char *)data, size < 64 ? size : 64);
    ctx_tenants_free(t);
    return 0;
}
