/* profiles_int.h: the inside of a profiles store, shared by profiles.c (lookups,
 * lifetime) and profiles_load.c (building it). Not for modules: use profiles.h.
 *
 * Invariants: everything a store points to lives in its arena, except globs (its
 * own allocation). Each table is at most half full, so a probe always ends on an
 * empty slot. A slot's vm is the VM index + 1 (0 marks an empty slot); key indexes
 * the VM's macs / ips / vnics for those tables.
 */
#ifndef CTXLOG_PROFILES_INT_H
#define CTXLOG_PROFILES_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ifglob.h"
#include "profiles.h"

/* ---- arena: all strings and arrays of a store ---- */

struct prof_chunk {
    struct prof_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
};

struct prof_arena {
    struct prof_chunk *head;
    size_t next_cap; /* size of the next regular chunk: doubles up to 1 MiB */
};

/* n zeroed bytes, 16-aligned, or NULL. */
void *ctx_prof_arena_alloc(struct prof_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *ctx_prof_arena_strndup(struct prof_arena *a, const char *s, size_t n);
void ctx_prof_arena_free(struct prof_arena *a);

/* Checks an 8-4-4-4-12 hex UUID of n bytes and writes it lower-case into out[37]. Returns 1 / 0. */
int ctx_prof_uuid_norm(const char *s, size_t n, char out[37]);

/* ---- field text (profiles_text.c) ---- */

/* Writes s (n bytes) quoted into dst (dl bytes), non-printables as \xNN, cut after 48 bytes. */
void ctx_prof_quote(char *dst, size_t dl, const char *s, size_t n);
/* 1 if s[0..n) is UTF-8 without control characters (C0, DEL, C1), surrogates or overlongs. */
int ctx_prof_text_ok(const unsigned char *s, size_t n);
/* Parses "xx:xx:xx:xx:xx:xx" (n must be 17, any case) into m. Returns 1 / 0. */
int ctx_prof_mac_parse(const char *s, size_t n, uint8_t m[6]);
/* 1 if s[0..n) is an absolute path of at most 4095 bytes, no ".." component, no control characters. */
int ctx_prof_cgroup_ok(const char *s, size_t n);
/* 1 if ip is a unicast address (not 0.0.0.0, multicast, broadcast class, ::, ff00::/8). */
int ctx_prof_ip_unicast(const ctx_ip_t *ip);

/* ---- the store ---- */

struct tslot {
    uint32_t hash; /* full 32-bit hash of the key */
    uint32_t vm;   /* VM index + 1; 0 = empty slot */
    uint32_t key;  /* index in that VM's list (macs, ips, vnics); 0 for uuid / name */
};

/* Open addressing, linear probing, at most half full: always has an empty slot. */
struct table {
    struct tslot *slots; /* mask + 1 slots, or NULL when nothing was inserted */
    uint32_t mask;
};

struct ctx_profiles {
    atomic_uint refs;
    const char *source;      /* arena */
    uint32_t n;              /* VMs */
    ctx_profile_t *vms;      /* n VMs in file order (arena) */
    struct table t_vnic;     /* exact vNIC names -> (vm, index in vnics) */
    struct table t_mac;      /* MAC -> (vm, index in macs) */
    struct table t_ip;       /* 16-byte IP -> (vm, index in ips) */
    struct table t_uuid;     /* lower-case UUID text -> vm */
    struct table t_name;     /* (tenant, name) -> first vm in file order */
    ctx_ifglob_t *globs;     /* every glob vNIC pattern, file order (own allocation) */
    uint32_t *glob_vm;       /* pattern i of globs belongs to VM glob_vm[i] (arena) */
    struct prof_arena arena;
};

static inline uint64_t mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint32_t hash_str(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (uint32_t)mix64(h);
}

static inline uint32_t hash_mac(const uint8_t *m) {
    uint64_t k = 0;
    memcpy(&k, m, 6);
    return (uint32_t)mix64(k);
}

static inline uint32_t hash_ip(const uint8_t *a) {
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    return (uint32_t)mix64(x ^ mix64(y));
}

struct name_key {
    const char *tenant, *name;
};

static inline uint32_t hash_name(const struct name_key *k) {
    return (uint32_t)mix64(((uint64_t)hash_str(k->tenant) << 32) | hash_str(k->name));
}

typedef int (*eq_fn)(const ctx_profiles_t *p, const struct tslot *s, const void *key);

static inline int eq_mac(const ctx_profiles_t *p, const struct tslot *s, const void *key) {
    return memcmp(p->vms[s->vm - 1].macs[s->key].addr, key, 6) == 0;
}

static inline int eq_ip(const ctx_profiles_t *p, const struct tslot *s, const void *key) {
    return memcmp(p->vms[s->vm - 1].ips[s->key].addr, key, 16) == 0;
}

static inline int eq_vnic(const ctx_profiles_t *p, const struct tslot *s, const void *key) {
    return strcmp(p->vms[s->vm - 1].vnics[s->key], key) == 0;
}

static inline int eq_uuid(const ctx_profiles_t *p, const struct tslot *s, const void *key) {
    return strcmp(p->vms[s->vm - 1].uuid, key) == 0;
}

static inline int eq_name(const ctx_profiles_t *p, const struct tslot *s, const void *key) {
    const struct name_key *k = key;
    const ctx_profile_t *vm = &p->vms[s->vm - 1];
    return strcmp(vm->name, k->name) == 0 && strcmp(vm->tenant, k->tenant) == 0;
}

static inline const struct tslot *tab_find(const ctx_profiles_t *p, const struct table *t, uint32_t h, eq_fn eq,
                                           const void *key) {
    if (t->slots == NULL) return NULL;
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        const struct tslot *s = &t->slots[i];
        if (s->vm == 0) return NULL;
        if (s->hash == h && eq(p, s, key)) return s;
    }
}

/* Inserts (vm, k) unless an equal key is there: returns that slot, or NULL once inserted. */
static inline const struct tslot *tab_put(const ctx_profiles_t *p, struct table *t, uint32_t h, uint32_t vm, uint32_t k,
                                   eq_fn eq, const void *key) {
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        struct tslot *s = &t->slots[i];
        if (s->vm == 0) {
            *s = (struct tslot){h, vm + 1, k};
            return NULL;
        }
        if (s->hash == h && eq(p, s, key)) return s;
    }
}

#endif
