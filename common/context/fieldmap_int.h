/* fieldmap_int.h: what fieldmap.c (pointers, conversions, applying a mapping) and
 * fieldmap_load.c (loading and checking a mapping file) share. Internal: use fieldmap.h. */
#ifndef CTXLOG_FIELDMAP_INT_H
#define CTXLOG_FIELDMAP_INT_H

#include "fieldmap.h"

#include <errno.h>
#include <libfastjson/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgfile.h"
#include "jsonpos.h"
#include "ctxlog_common.h"

/* A compiled RFC 6901 pointer: unescaped reference tokens; idx[i] is the token as an array index,
 * or -1 when it is not one ("01", "-", "a"). */
struct jptr {
    char *text; /* as written, for messages */
    char **tok;
    long *idx;
    size_t n;
};

enum reduce { R_NONE, R_AVG, R_SUM, R_MIN, R_MAX };

#define FM_MAX_PER 4

struct fmfield {
    char *name;
    int type;                    /* ctx_fm_type */
    struct jptr ptr;             /* relative to the section root, or to each "array" element */
    struct jptr arr;             /* "array": valid when reduce != R_NONE */
    int reduce;                  /* enum reduce */
    struct jptr per[FM_MAX_PER]; /* divisors, relative to the section root */
    size_t nper;
    double scale; /* 1 unless "scale" */
    int decimals; /* number: digits after the point */
};

struct fmsection {
    int present;
    char *path; /* "path" hint or NULL */
    struct fmfield *f;
    size_t nf;
    struct jptr items; /* bulk */
    struct jptr key;   /* bulk, optional */
    int has_key;
    int key_kind; /* ctx_fm_key_kind */
};

#define FM_MAX_HEADERS 16

struct ctx_fieldmap {
    struct fmsection sec[CTX_FM_NSECTIONS];
    char *headers[FM_MAX_HEADERS]; /* "Name: value" */
    size_t nheaders;
};

static const char *const section_names[CTX_FM_NSECTIONS] __attribute__((unused)) = {"vm", "bulk", "stats", "host",
                                                                                     "hostid"};
static const char *const type_names[] __attribute__((unused)) = {"string", "number", "integer", "bool"};

/* fieldmap.c */
void fm_free_field(struct fmfield *f);
int fm_jptr_compile(const char *text, struct jptr *p);
void fm_jptr_free(struct jptr *p);

#endif
