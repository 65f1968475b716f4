/* fmt_otlp_sd.c: RFC 5424 STRUCTURED-DATA as a LogRecord attribute (docs/omtenant.md#otlp).
 *
 * Concurrency: no state.
 */
#include "fmt_otlp_int.h"

void ot_sd_attr(ot_w_t *w, const char *sd, size_t n) {
    ot_kv_str(w, OT_LR_ATTRIBUTES, "syslog.structured_data", sd, n);
}
