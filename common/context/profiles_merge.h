/* profiles_merge.h: one profiles store from the profiles file and libvirt's domains.
 *
 * Precedence (docs/profiles.md, "Two sources"):
 * - A file entry and a domain are the same VM when the entry's "uuid" is the
 *   domain's UUID, or, for an entry without "uuid", its "name" is the domain's name.
 * - For such a VM, every key the file entry sets wins; the domain fills the keys the
 *   entry lacks (name, uuid, tenant, user, cgroup, vnic, mac). A domain's tenant
 *   and user come before the file's "defaults".
 * - Domains no entry names are added; entries no domain names stay as they are.
 * - A vNIC, MAC or UUID the file gives to a VM is never given to another VM by
 *   libvirt: that key is left out of the domain's entry. A domain's MACs are only
 *   added along with at least one of its vNICs, so a domain is never attributed by
 *   a MAC (which its tenant may choose) alone.
 * - A domain with no tenant (no metadata, no file entry, no "defaults") is left out.
 * The result is checked and built by ctx_profiles_load_buffer(): the file's rules
 * hold for every VM whatever its source.
 *
 * Threads: no shared state.
 */
#ifndef CTXLOG_PROFILES_MERGE_H
#define CTXLOG_PROFILES_MERGE_H

#include <stddef.h>

#include "profiles.h"
#include "profiles_lvxml.h"

typedef struct ctx_merge_stats {
    unsigned matched;      /* domains merged into a file entry */
    unsigned added;        /* domains added as VMs of their own */
    unsigned no_tenant;    /* domains left out: no tenant from anywhere */
    unsigned keys_dropped; /* vNICs, MACs, UUIDs of domains left out as another VM's */
} ctx_merge_stats_t;

/* file_text[0..file_len) is the profiles file that file_store was loaded from (both
 * borrowed; both NULL when there is no file). doms[0..n) are the domains (borrowed).
 * name (borrowed) names the result (ctx_profiles_source()).
 * On success *out is a new store (one reference), *st (may be NULL) is filled and 0
 * is returned; else *out is NULL, err holds one line, and the return is CTX_EPARSE,
 * CTX_ENOMEM or CTX_EINVAL. */
int ctx_profiles_merge(const char *file_text, size_t file_len, const ctx_profiles_t *file_store,
                       const ctx_lvdom_t *doms, size_t n, const char *name, ctx_profiles_t **out,
                       ctx_merge_stats_t *st, char *err, size_t errlen);

#endif
