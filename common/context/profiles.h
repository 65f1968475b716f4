/* profiles.h: the VM profiles store (who a captured packet belongs to).
 *
 * The operator's profiles file (JSON, format in docs/profiles.md) lists each VM:
 * name, UUID, tenant, owner, IPv4/IPv6 addresses, MACs, vNIC names or glob
 * patterns, cgroup path. Loading validates all of it and builds an immutable,
 * reference-counted store with hash tables for the per-packet lookups.
 *
 * Threads: a store never changes once loaded. Any number of threads may call the
 * lookups and accessors on a store they hold a reference to. A reload (HUP) loads a
 * new store and swaps it into a reload slot (common/base/slot.h, made by
 * ctx_profiles_slot_new()); workers that still hold the old one keep using it until
 * they drop their reference, which frees it.
 *
 * Addresses: every IP is kept in 16-byte form; an IPv4 address a.b.c.d is the
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d (see ctx_ip_map_v4()).
 */
#ifndef CTXLOG_PROFILES_H
#define CTXLOG_PROFILES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slot.h"

#define CTX_PROFILES_MAX_FILE (64u << 20) /* ctx_profiles_load_file() refuses larger files */
#define CTX_PROFILES_MAX_VMS 1000000      /* most entries in "vms" */
#define CTX_PROFILES_MAX_ADDRS 256        /* most entries in one VM's ipv4, ipv6, mac or vnic list */

/* A MAC address with its text, precomputed so nobody formats per message. */
typedef struct ctx_mac {
    uint8_t addr[6]; /* network order */
    char text[18];   /* "52:54:00:ab:cd:ef": lower case, NUL-terminated */
} ctx_mac_t;

/* An IP address with its text, precomputed. */
typedef struct ctx_ip {
    uint8_t addr[16]; /* IPv6, or IPv4-mapped (::ffff:a.b.c.d) for IPv4 */
    uint8_t family;   /* AF_INET or AF_INET6 */
    char text[46];    /* "192.0.2.10" or canonical "2001:db8::10" (inet_ntop), NUL-terminated */
} ctx_ip_t;

/* One VM, read-only: every pointer is owned by the store and lives as long as it.
 * Optional strings are NULL when the file does not give them. */
typedef struct ctx_profile {
    const char *name;    /* "name": never NULL, 1..255 bytes of UTF-8 */
    const char *uuid;    /* "uuid": lower-case 8-4-4-4-12 hex (36 chars), or NULL */
    const char *tenant;  /* "tenant", else "defaults"."tenant": never NULL, [A-Za-z0-9._-]{1,64} */
    const char *user;    /* "user", else "defaults"."user", or NULL */
    const char *cgroup;  /* "cgroup": absolute path, or NULL */
    long pid;            /* "pid": 1..4194304, or 0 when not given */
    uint32_t index;      /* position in "vms" (0-based): the N of vms[N] in messages */
    uint32_t line;       /* line of the entry's '{' in the file (1-based) */
    uint32_t n_ips;      /* entries in ips */
    uint32_t n_macs;     /* entries in macs */
    uint32_t n_vnics;    /* entries in vnics */
    const ctx_ip_t *ips;         /* "ipv4" entries then "ipv6" entries, in file order */
    const ctx_mac_t *macs;       /* "mac" entries in file order */
    const char *const *vnics;    /* "vnic" entries (names or glob patterns) in file order */
} ctx_profile_t;

/* The store (opaque, immutable, reference-counted). */
typedef struct ctx_profiles ctx_profiles_t;

/* How a packet was attributed. */
typedef enum ctx_match {
    CTX_MATCH_NONE = 0,  /* not attributed */
    CTX_MATCH_VNIC,      /* exact vNIC name */
    CTX_MATCH_VNIC_GLOB, /* vNIC glob pattern (first matching pattern in file order) */
    CTX_MATCH_MAC,       /* source MAC */
    CTX_MATCH_IP         /* source IP */
} ctx_match_t;

/* Keys of a packet that name a VM other than its sender (bits of ctx_attribution_t.spoof). */
#define CTX_SPOOF_MAC 1u /* the source MAC is another VM's */
#define CTX_SPOOF_IP 2u  /* the source IP is another VM's */

/* The result of ctx_profiles_attribute(). Pointers are owned by the store. */
typedef struct ctx_attribution {
    const ctx_profile_t *vm; /* the VM, or NULL */
    ctx_match_t how;         /* which key matched (CTX_MATCH_NONE if vm is NULL) */
    const ctx_mac_t *mac;    /* the VM's entry equal to the packet's source MAC, or NULL */
    const ctx_ip_t *ip;      /* the VM's entry equal to the packet's source IP, or NULL */
    unsigned spoof;          /* CTX_SPOOF_* bits: keys naming another VM than vm (or any VM when vm is NULL) */
} ctx_attribution_t;

/* ---- loading ---------------------------------------------------------------- */

/* Parses and validates a profiles document of len bytes (borrowed; need not be
 * NUL-terminated). name (borrowed) is used in error messages and kept as the
 * store's source (NULL: "profiles").
 * On success *out is a new store holding one reference and 0 is returned.
 * On failure *out is NULL, err holds ONE line
 *   `<name>: line N: vms[3].mac: expected "xx:xx:xx:xx:xx:xx", got "zz"`
 * (the messages are listed in docs/profiles.md) and the return is CTX_EPARSE
 * (bad document), CTX_ENOMEM, or CTX_EINVAL (NULL buf with len > 0, NULL out).
 * Thread-safe (no shared state). */
int ctx_profiles_load_buffer(const char *buf, size_t len, const char *name, ctx_profiles_t **out, char *err,
                             size_t errlen);

/* Reads the file at path (borrowed) and calls ctx_profiles_load_buffer() with the
 * path as name. Extra failures: CTX_EIO (`<path>: cannot read: <strerror>`),
 * CTX_EFULL (larger than CTX_PROFILES_MAX_FILE). Blocking file I/O: call it from
 * configuration or HUP handling, not from a worker's hot path. */
int ctx_profiles_load_file(const char *path, ctx_profiles_t **out, char *err, size_t errlen);

/* ---- reference counting ----------------------------------------------------- */

/* Adds a reference (atomic) and returns p. NULL is returned unchanged. */
ctx_profiles_t *ctx_profiles_ref(ctx_profiles_t *p);

/* Drops a reference (atomic); the last one frees the store. NULL is a no-op.
 * This is the store's x_free(). */
void ctx_profiles_unref(ctx_profiles_t *p);

/* ---- lookups: no allocation, no lock, O(1) except globs ----------------------- */

/* The VM whose vNIC list names ifname (borrowed) exactly (hash lookup); if none,
 * the VM with the first glob pattern, in file order, that matches ifname (glob
 * patterns are scanned in order, each rejected early on its literal prefix).
 * *how (if not NULL) is set to CTX_MATCH_VNIC, CTX_MATCH_VNIC_GLOB or CTX_MATCH_NONE.
 * Returns NULL if nothing matches. The answer for one ifname never changes for
 * one store: a module may cache it per interface and store. */
const ctx_profile_t *ctx_profiles_by_vnic(const ctx_profiles_t *p, const char *ifname, ctx_match_t *how);

/* The VM with this MAC (6 bytes, borrowed), or NULL. *entry (if not NULL) is set to
 * the VM's matching ctx_mac_t (NULL when no VM matches). */
const ctx_profile_t *ctx_profiles_by_mac(const ctx_profiles_t *p, const uint8_t mac[6], const ctx_mac_t **entry);

/* The VM with this address (16-byte form, borrowed), or NULL; *entry as above. */
const ctx_profile_t *ctx_profiles_by_ip(const ctx_profiles_t *p, const uint8_t ip16[16], const ctx_ip_t **entry);

/* The VM with this UUID (text, any case, borrowed), or NULL (also for a malformed UUID). */
const ctx_profile_t *ctx_profiles_by_uuid(const ctx_profiles_t *p, const char *uuid);

/* The first VM, in file order, with this tenant and name (both borrowed), or NULL. */
const ctx_profile_t *ctx_profiles_by_name(const ctx_profiles_t *p, const char *tenant, const char *name);

/* Attributes a packet by the threat model of docs/threat-model.md: a guest writes
 * every byte of its frames (MAC and IP included) but cannot choose the vNIC it is on.
 * - ifname resolves to a VM (ctx_profiles_by_vnic()): that VM is the sender; the
 *   source MAC and IP only confirm it.
 * - ifname resolves to no VM: the first of source MAC, source IP (16-byte form) that
 *   names a VM WITHOUT vnic entries is the sender (how CTX_MATCH_MAC / _IP). A VM
 *   that has vnic entries lives on those vNICs and is never found by MAC or IP.
 * - Either way, a key that names a VM other than the sender (or any VM, when there
 *   is no sender) sets its bit in out->spoof; the packet never takes that VM's
 *   identity.
 * Any of ifname, mac, ip16 may be NULL (that key is skipped).
 * Fills *out (all of it, always): vm and how; mac / ip point to the VM's own entries
 * equal to the packet's source MAC / IP when the VM has them (whatever key matched),
 * so the caller can use their precomputed text; spoof. Returns 1 if attributed, 0 if
 * not (also when p is NULL: no store loaded yet), CTX_EINVAL if out is NULL.
 * No allocation, no lock. */
int ctx_profiles_attribute(const ctx_profiles_t *p, const char *ifname, const uint8_t *mac, const uint8_t *ip16,
                           ctx_attribution_t *out);

/* ---- accessors --------------------------------------------------------------- */

/* Number of VMs (0 for NULL). */
size_t ctx_profiles_count(const ctx_profiles_t *p);

/* VM i (0-based, file order), or NULL if out of range. */
const ctx_profile_t *ctx_profiles_at(const ctx_profiles_t *p, size_t i);

/* The name the store was loaded with (the path for ctx_profiles_load_file()). */
const char *ctx_profiles_source(const ctx_profiles_t *p);

/* "none", "vnic", "vnic-glob", "mac", "ip" (for logs and counters). */
const char *ctx_match_name(ctx_match_t how);

/* CTX_SPOOF_* bits as $!ctx!vm!spoof writes them: "mac", "ip", "both"; NULL for 0. */
const char *ctx_spoof_name(unsigned spoof);

/* 1 if s is a valid tenant id: 1..64 bytes of [A-Za-z0-9._-], not "." or ".."
 * (it becomes a file name downstream). For checking module parameters such as a
 * default tenant with the same rule. */
int ctx_tenant_id_valid(const char *s);

/* Writes the IPv4-mapped 16-byte form of v4 (4 bytes, network order) into out. */
static inline void ctx_ip_map_v4(const uint8_t v4[4], uint8_t out[16]) {
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

/* ---- the current store, swapped on HUP ----------------------------------------- */

/* The current store is kept in a reload slot (common/base/slot.h): ctx_slot_set()
 * takes over the caller's store reference, the slot's destroy drops it, readers use
 * ctx_slot_read() / ctx_slot_acquire() or ctx_profiles_current(). */

/* Creates an empty slot for stores. Returns 0, or CTX_ENOMEM (*out NULL), CTX_EINVAL. */
int ctx_profiles_slot_new(ctx_slot_t **out);

/* A new reference to the store current in s (the caller unrefs it), or NULL when s
 * is empty or NULL. */
ctx_profiles_t *ctx_profiles_current(ctx_slot_t *s);

#endif
