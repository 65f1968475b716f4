/* cnfutil.h: small helpers shared by the modules' config glue (header-only,
 * included by plugin files after rsyslog's headers).
 *
 * Concurrency: used only on rsyslog's config-load thread.
 */
#ifndef CTXLOG_CNFUTIL_H
#define CTXLOG_CNFUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rsyslogd's -N level (0 when it runs for real); defined by rsyslogd's core (rsconf.c) */
extern int iConfigVerify;

/* A config warning: a mistake that does not stop the configuration from loading. Logged at
 * warning severity (an error would make `rsyslogd -N1` fail, and a running rsyslogd would
 * not start its config cleanly); during `rsyslogd -N1`, which prints only errors, also
 * written to stderr so that the operator checking a change sees it. */
static inline void cnf_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void cnf_warning(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    LogMsg(0, RS_RET_CONF_PARSE_WARNING, LOG_WARNING, "%s", buf);
    if (iConfigVerify) fprintf(stderr, "rsyslogd: %s\n", buf);
}

/* a C string copy of a string parameter value; NULL on allocation failure */
static inline char *cnf_str(const struct cnfparamvals *v) {
    return es_str2cstr(v->val.d.estr, NULL);
}

/* The members of an array parameter (a scalar is an array of one), each also split
 * at commas, trimmed, empty pieces skipped: returns a NULL-terminated list of
 * malloc'ed strings (free with cnf_list_free), or NULL on allocation failure. */
static inline char **cnf_list(const struct cnfparamvals *v) {
    const struct cnfarray *ar = v->val.d.ar;
    size_t cap = 8, n = 0;
    char **out = calloc(cap, sizeof(char *));
    if (out == NULL) return NULL;
    for (int i = 0; i < ar->nmemb; ++i) {
        char *s = es_str2cstr(ar->arr[i], NULL), *save = NULL;
        if (s == NULL) goto fail;
        for (char *tok = strtok_r(s, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ' || *tok == '\t') ++tok;
            size_t len = strlen(tok);
            while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) tok[--len] = '\0';
            if (len == 0) continue;
            if (n + 1 >= cap) {
                char **grown = realloc(out, 2 * cap * sizeof(char *));
                if (grown == NULL) { free(s); goto fail; }
                out = grown;
                cap *= 2;
            }
            if ((out[n++] = strdup(tok)) == NULL) { free(s); goto fail; }
            out[n] = NULL;
        }
        free(s);
    }
    return out;
fail:
    for (size_t i = 0; i < n; ++i) free(out[i]);
    free(out);
    return NULL;
}

static inline void cnf_list_free(char **list) {
    if (list == NULL) return;
    for (char **p = list; *p != NULL; ++p) free(*p);
    free(list);
}

static inline size_t cnf_list_len(char *const *list) {
    size_t n = 0;
    while (list != NULL && list[n] != NULL) ++n;
    return n;
}

#endif
