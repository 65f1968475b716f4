/* profiles_fx.h: where the profiles tests (test_profiles.c, test_profiles_errors.c) find
 * their files: data_path() puts REL under $top_srcdir (or . when it is not set). */
#ifndef CTXLOG_TESTS_PROFILES_FX_H
#define CTXLOG_TESTS_PROFILES_FX_H

#include <stdio.h>
#include <stdlib.h>

static inline const char *srcdir(void) {
    const char *d = getenv("top_srcdir");
    return d ? d : ".";
}

static inline void data_path(char *buf, size_t bl, const char *rel) {
    snprintf(buf, bl, "%s/%s", srcdir(), rel);
}

#endif
