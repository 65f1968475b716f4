/* Tables of bad configuration values for unit tests: each row sets one field of a config
 * struct (named, so a row reads like the assignment it replaces) and says what the check
 * must answer. A test copies its defaults, applies a row with conftab_set() and checks the
 * code and the message; one loop instead of a "c = d; c.x = v; expect(...)" run per key.
 * The field's type picks the store (int, long, unsigned long, double, or a string pointer):
 * on LP64 Linux int64_t is long and size_t is unsigned long. */
#ifndef CTXLOG_TEST_CONFTAB_H
#define CTXLOG_TEST_CONFTAB_H

#include <stddef.h>
#include <string.h>

typedef enum { CONFTAB_INT, CONFTAB_LONG, CONFTAB_ULONG, CONFTAB_DOUBLE, CONFTAB_PTR } conftab_kind_t;

typedef struct {
    size_t off;          /* offsetof the field */
    conftab_kind_t kind; /* its type */
    double num;          /* the value of a number field (exact for the small values tests use) */
    const char *str;     /* the value of a string field */
    int rc;              /* the code the check must return */
    const char *msg;     /* the message it must write */
} conftab_row_t;

#define CONFTAB_KIND_(T, f)                                                                        \
    _Generic(((T *)0)->f, int: CONFTAB_INT, long: CONFTAB_LONG, unsigned long: CONFTAB_ULONG,      \
             double: CONFTAB_DOUBLE, default: CONFTAB_PTR)
/* a number field set to v */
#define CONFTAB_NUM(T, f, v, rc, msg) {offsetof(T, f), CONFTAB_KIND_(T, f), (v), NULL, (rc), (msg)}
/* a string field (const char *) set to s */
#define CONFTAB_STR(T, f, s, rc, msg) {offsetof(T, f), CONFTAB_PTR, 0, (s), (rc), (msg)}
#define CONFTAB_LEN(tab) (sizeof(tab) / sizeof((tab)[0]))

static inline void conftab_set(void *conf, const conftab_row_t *r) {
    char *p = (char *)conf + r->off;
    int i = (int)r->num;
    long l = (long)r->num;
    unsigned long u = (unsigned long)r->num;
    switch (r->kind) {
    case CONFTAB_INT: memcpy(p, &i, sizeof i); break;
    case CONFTAB_LONG: memcpy(p, &l, sizeof l); break;
    case CONFTAB_ULONG: memcpy(p, &u, sizeof u); break;
    case CONFTAB_DOUBLE: memcpy(p, &r->num, sizeof r->num); break;
    case CONFTAB_PTR: memcpy(p, &r->str, sizeof r->str); break;
    }
}

#endif
