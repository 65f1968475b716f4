/* fmt_hec_ack.c: Splunk HEC indexer acknowledgement (fmt.h). With a channel, HEC answers an
 * event POST with {"text":"Success","code":0,"ackId":7}; the sender then asks
 * POST /services/collector/ack?channel=GUID {"acks":[7]} until the answer says
 * {"acks":{"7":true}}: only then are the events indexed (and the batch delivered).
 *
 * Concurrency: pure functions.
 */
#include "fmt.h"

#include <json.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"

static fjson_object *parse_obj(const char *s, size_t n) {
    if (s == NULL || n == 0 || n > (1u << 20)) return NULL;
    fjson_tokener *tok = fjson_tokener_new();
    if (tok == NULL) return NULL;
    fjson_object *o = fjson_tokener_parse_ex(tok, s, (int)n);
    if (o != NULL && (fjson_tokener_get_error(tok) != fjson_tokener_success || !fjson_object_is_type(o, fjson_type_object))) {
        fjson_object_put(o);
        o = NULL;
    }
    fjson_tokener_free(tok);
    return o;
}

int ctx_fmt_hec_ack_id(const char *reply, size_t len, uint64_t *id) {
    fjson_object *o = parse_obj(reply, len), *v = NULL;
    if (o == NULL) return CTX_EPARSE;
    int rc = 0;
    if (fjson_object_object_get_ex(o, "ackId", &v)) {
        if (v != NULL && fjson_object_is_type(v, fjson_type_int) && fjson_object_get_int64(v) >= 0)
            *id = (uint64_t)fjson_object_get_int64(v), rc = 1;
        else
            rc = CTX_EPARSE;
    }
    fjson_object_put(o);
    return rc;
}

int ctx_fmt_hec_ack_done(const char *reply, size_t len, uint64_t id) {
    fjson_object *o = parse_obj(reply, len), *acks = NULL, *v = NULL;
    if (o == NULL) return CTX_EPARSE;
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)id);
    int rc = CTX_EPARSE;
    if (fjson_object_object_get_ex(o, "acks", &acks) && acks != NULL && fjson_object_is_type(acks, fjson_type_object))
        rc = fjson_object_object_get_ex(acks, key, &v) && v != NULL && fjson_object_is_type(v, fjson_type_boolean)
                 ? fjson_object_get_boolean(v) != 0
                 : CTX_EPARSE;
    fjson_object_put(o);
    return rc;
}
