/* profiles_ld.h: the JSON loader's state and error reporting, shared by
 * profiles_load.c (the document, fields, syntax) and profiles_tables.c (lookup tables
 * and duplicate checks across VMs). Not for modules: use profiles.h.
 */
#ifndef CTXLOG_PROFILES_LD_H
#define CTXLOG_PROFILES_LD_H

#include <stddef.h>
#include <stdint.h>

#include "profiles.h"

/* A place in the document: top[vm].key[elem]; NULL / -1 parts are absent. */
struct jpath {
    const char *top;
    long vm;
    const char *key;
    long elem;
};

#define ARR_IPV4 1u
#define ARR_IPV6 2u
#define ARR_MAC 4u
#define ARR_VNIC 8u

struct ld {
    const char *b;          /* the document, after a UTF-8 BOM if any */
    size_t n;
    const char *name;       /* for messages */
    char *err;
    size_t errlen;
    size_t root;            /* offset of the root '{' */
    size_t *vm_off;         /* offset of each vms[i] value */
    uint8_t *vm_arr;        /* per VM: ARR_* bits of the list keys written as arrays */
    const char *def_tenant; /* "defaults"."tenant" (arena) or NULL */
    const char *def_user;
    ctx_profiles_t *p;
};

/* "<name>: line N: <path>: <message>" into l->err, N being the line of the place jp
 * names; returns CTX_EPARSE. */
int ctx_pld_fail(struct ld *l, const struct jpath *jp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "<name>: out of memory"; returns CTX_ENOMEM. */
int ctx_pld_nomem(struct ld *l);

/* Fills the store's lookup tables from l->p->vms in file order; the first key seen
 * twice (within a VM or across VMs) fails with a message naming both entries.
 * Returns 0, CTX_EPARSE or CTX_ENOMEM. */
int ctx_pld_build_tables(struct ld *l);

#endif
