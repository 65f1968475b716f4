/* fieldmap_fx.h: what the mapping tests (test_fieldmap.c, test_fieldmap_errors.c) share: the
 * DATA (tests/data/fieldmap/) and CONF (conf-examples/) directories, and a JSON file or a
 * mapping loaded or parsed where failing to is the test's failure.
 * Include after cmocka.h, libfastjson's json.h, ctxlog_common.h and fieldmap.h. */
#ifndef CTXLOG_TESTS_FIELDMAP_FX_H
#define CTXLOG_TESTS_FIELDMAP_FX_H

#include <string.h>

#define DATA CTX_SRCDIR "/tests/data/fieldmap/"
#define CONF CTX_SRCDIR "/conf-examples/"

static inline struct fjson_object *load_json(const char *path) {
    struct fjson_object *o = fjson_object_from_file(path);
    if (o == NULL) fail_msg("cannot parse %s", path);
    return o;
}

static inline ctx_fieldmap *map_file(const char *path) {
    char err[CTX_ERRLEN] = "";
    ctx_fieldmap *m = NULL;
    int rc = ctx_fieldmap_load(path, &m, err, sizeof err);
    if (rc != 0) fail_msg("load %s: %d %s", path, rc, err);
    return m;
}

static inline ctx_fieldmap *map_text(const char *text) {
    char err[CTX_ERRLEN] = "";
    ctx_fieldmap *m = NULL;
    int rc = ctx_fieldmap_parse(text, strlen(text), "m.json", &m, err, sizeof err);
    if (rc != 0) fail_msg("parse: %d %s", rc, err);
    return m;
}

#endif
