/* namereg.c: a bounded registry of names (see namereg.h).
 *
 * Concurrency: one mutex over the table; names are never moved or freed before
 * ctx_namereg_free(), so a pointer returned by ctx_namereg_name() stays valid.
 */
#include "namereg.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

struct ctx_namereg {
    pthread_mutex_t mu;
    size_t max, n;
    char **names; /* n given, max room */
};

int ctx_namereg_new(size_t max, ctx_namereg_t **out) {
    if (out == NULL) return CTX_EINVAL;
    *out = NULL;
    ctx_namereg_t *r = calloc(1, sizeof(*r));
    if (r == NULL || (max > 0 && (r->names = calloc(max, sizeof(char *))) == NULL)) {
        free(r);
        return CTX_ENOMEM;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->max = max;
    *out = r;
    return 0;
}

void ctx_namereg_free(ctx_namereg_t *r) {
    if (r == NULL) return;
    for (size_t i = 0; i < r->n; i++) free(r->names[i]);
    free(r->names);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int ctx_namereg_get(ctx_namereg_t *r, const char *name, int *created) {
    if (created != NULL) *created = 0;
    if (r == NULL || name == NULL) return CTX_EINVAL;
    int rc = CTX_EFULL;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->names[i], name) == 0) {
            rc = (int)i;
            goto out;
        }
    }
    if (r->n < r->max) {
        if ((r->names[r->n] = strdup(name)) == NULL) {
            rc = CTX_ENOMEM;
            goto out;
        }
        rc = (int)r->n++;
        if (created != NULL) *created = 1;
    }
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

size_t ctx_namereg_count(ctx_namereg_t *r) {
    if (r == NULL) return 0;
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

const char *ctx_namereg_name(ctx_namereg_t *r, size_t i) {
    if (r == NULL) return NULL;
    pthread_mutex_lock(&r->mu);
    const char *s = i < r->n ? r->names[i] : NULL;
    pthread_mutex_unlock(&r->mu);
    return s;
}
