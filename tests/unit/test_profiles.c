/* test_profiles.c: the VM profiles store: loading every field, lookups and attribution
 * order (and what a guest cannot steer), the shipped example, reference counting and the HUP
 * slot under concurrent readers, 5,000 VMs. Every validation message and the fuzz corpus:
 * test_profiles_errors.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctxlog_common.h"
#include "profiles.h"
#include "profiles_fx.h"

static ctx_profiles_t *load_ok(const char *doc) {
    ctx_profiles_t *p = NULL;
    char err[CTX_ERRLEN] = "";
    int r = ctx_profiles_load_buffer(doc, strlen(doc), "p.json", &p, err, sizeof err);
    if (r != 0) fail_msg("load failed (%d): %s", r, err);
    return p;
}

static void ip4(const char *text, uint8_t out[16]) {
    uint8_t v4[4];
    assert_int_equal(inet_pton(AF_INET, text, v4), 1);
    ctx_ip_map_v4(v4, out);
}

static void ip6(const char *text, uint8_t out[16]) {
    assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static const uint8_t MAC1[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x01};
static const uint8_t MAC2[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x02};
static const uint8_t MAC3[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x03};
static const uint8_t MACX[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0x99};

static ctx_profiles_t *load_basic(void) {
    char path[4096], err[CTX_ERRLEN] = "";
    ctx_profiles_t *p = NULL;
    data_path(path, sizeof path, "tests/data/profiles/good-basic.json");
    int r = ctx_profiles_load_file(path, &p, err, sizeof err);
    if (r != 0) fail_msg("%s", err);
    return p;
}

static void loads_every_field(void **state) {
    (void)state;
    ctx_profiles_t *p = load_basic();
    assert_int_equal(ctx_profiles_count(p), 3);
    assert_non_null(strstr(ctx_profiles_source(p), "tests/data/profiles/good-basic.json"));

    const ctx_profile_t *v = ctx_profiles_at(p, 0);
    assert_string_equal(v->name, "web-1");
    assert_string_equal(v->uuid, "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f"); /* lower-cased */
    assert_string_equal(v->tenant, "acme");                                 /* from defaults */
    assert_string_equal(v->user, "alice");                                  /* own value beats defaults */
    assert_string_equal(v->cgroup, "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dweb\\x2d1.scope");
    assert_int_equal(v->pid, 4242);
    assert_int_equal(v->index, 0);
    assert_int_equal(v->line, 6);
    assert_int_equal(v->n_ips, 3);
    assert_string_equal(v->ips[0].text, "192.0.2.10");
    assert_int_equal(v->ips[0].family, AF_INET);
    assert_string_equal(v->ips[1].text, "192.0.2.11");
    assert_string_equal(v->ips[2].text, "2001:db8::10"); /* canonical form of "2001:DB8:0:0::10" */
    assert_int_equal(v->ips[2].family, AF_INET6);
    uint8_t a[16];
    ip4("192.0.2.10", a);
    assert_memory_equal(v->ips[0].addr, a, 16);
    assert_int_equal(v->n_macs, 1);
    assert_string_equal(v->macs[0].text, "52:54:00:ab:cd:01");
    assert_memory_equal(v->macs[0].addr, MAC1, 6);
    assert_int_equal(v->n_vnics, 1);
    assert_string_equal(v->vnics[0], "vnet3");

    v = ctx_profiles_at(p, 1);
    assert_string_equal(v->name, "db-1");
    assert_null(v->uuid);
    assert_string_equal(v->tenant, "globex");
    assert_string_equal(v->user, "ops");
    assert_null(v->cgroup);
    assert_int_equal(v->pid, 0);
    assert_int_equal(v->line, 17);
    assert_int_equal(v->n_ips, 1);
    assert_string_equal(v->ips[0].text, "198.51.100.7");
    assert_int_equal(v->n_macs, 2);
    assert_string_equal(v->macs[1].text, "52:54:00:ab:cd:03");
    assert_int_equal(v->n_vnics, 2);
    assert_string_equal(v->vnics[0], "tap3f*");
    assert_string_equal(v->vnics[1], "tap40");

    v = ctx_profiles_at(p, 2);
    assert_string_equal(v->name, "cache");
    assert_int_equal(v->n_ips, 2);
    assert_string_equal(v->ips[0].text, "2001:db8::c");
    assert_string_equal(v->ips[1].text, "fe80::5054:ff:feab:cd04");
    assert_int_equal(v->n_macs, 0);
    assert_int_equal(v->n_vnics, 0);
    assert_null(ctx_profiles_at(p, 3));
    ctx_profiles_unref(p);
}

static void lookups_by_each_key(void **state) {
    (void)state;
    ctx_profiles_t *p = load_basic();
    const ctx_profile_t *web = ctx_profiles_at(p, 0), *db = ctx_profiles_at(p, 1), *cache = ctx_profiles_at(p, 2);
    ctx_match_t how;
    const ctx_mac_t *me;
    const ctx_ip_t *ie;
    uint8_t a[16];

    assert_ptr_equal(ctx_profiles_by_vnic(p, "vnet3", &how), web);
    assert_int_equal(how, CTX_MATCH_VNIC);
    assert_ptr_equal(ctx_profiles_by_vnic(p, "tap40", &how), db);
    assert_int_equal(how, CTX_MATCH_VNIC);
    assert_ptr_equal(ctx_profiles_by_vnic(p, "tap3f0a", &how), db);
    assert_int_equal(how, CTX_MATCH_VNIC_GLOB);
    assert_null(ctx_profiles_by_vnic(p, "vnet33", &how));
    assert_int_equal(how, CTX_MATCH_NONE);
    assert_null(ctx_profiles_by_vnic(p, "tap4", NULL));

    assert_ptr_equal(ctx_profiles_by_mac(p, MAC3, &me), db);
    assert_string_equal(me->text, "52:54:00:ab:cd:03");
    assert_null(ctx_profiles_by_mac(p, MACX, &me));
    assert_null(me);

    ip4("192.0.2.11", a);
    assert_ptr_equal(ctx_profiles_by_ip(p, a, &ie), web);
    assert_string_equal(ie->text, "192.0.2.11");
    ip6("fe80::5054:ff:feab:cd04", a);
    assert_ptr_equal(ctx_profiles_by_ip(p, a, &ie), cache);
    ip6("2001:db8::10", a);
    assert_ptr_equal(ctx_profiles_by_ip(p, a, NULL), web);
    ip4("192.0.2.12", a);
    assert_null(ctx_profiles_by_ip(p, a, &ie));
    assert_null(ie);

    assert_ptr_equal(ctx_profiles_by_uuid(p, "6F1C2A4E-0B7D-4C1E-9A8F-2D3B4C5D6E7F"), web);
    assert_ptr_equal(ctx_profiles_by_uuid(p, "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f"), web);
    assert_null(ctx_profiles_by_uuid(p, "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e70"));
    assert_null(ctx_profiles_by_uuid(p, "6f1c2a4e"));
    assert_null(ctx_profiles_by_uuid(p, "6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7fX"));

    assert_ptr_equal(ctx_profiles_by_name(p, "globex", "db-1"), db);
    assert_null(ctx_profiles_by_name(p, "acme", "db-1"));
    assert_ptr_equal(ctx_profiles_by_name(p, "acme", "cache"), cache);

    assert_null(ctx_profiles_by_vnic(NULL, "vnet3", &how));
    assert_null(ctx_profiles_by_mac(NULL, MAC1, NULL));
    assert_null(ctx_profiles_by_mac(p, NULL, NULL));
    assert_null(ctx_profiles_by_ip(p, NULL, NULL));
    assert_null(ctx_profiles_by_uuid(p, NULL));
    assert_null(ctx_profiles_by_name(p, NULL, "db-1"));
    ctx_profiles_unref(p);
}

static void attribution_order_is_vnic_mac_ip(void **state) {
    (void)state;
    ctx_profiles_t *p = load_basic();
    const ctx_profile_t *web = ctx_profiles_at(p, 0), *db = ctx_profiles_at(p, 1), *cache = ctx_profiles_at(p, 2);
    ctx_attribution_t at;
    uint8_t web_ip[16], cache_ip[16], none_ip[16];
    ip4("192.0.2.10", web_ip);
    ip6("2001:db8::c", cache_ip);
    ip4("203.0.113.1", none_ip);

    /* vNIC beats a MAC and an IP of other VMs */
    assert_int_equal(ctx_profiles_attribute(p, "vnet3", MAC2, cache_ip, &at), 1);
    assert_ptr_equal(at.vm, web);
    assert_int_equal(at.how, CTX_MATCH_VNIC);
    assert_null(at.mac); /* the packet's MAC is db-1's, not web-1's */
    assert_null(at.ip);
    assert_int_equal(at.spoof, CTX_SPOOF_MAC | CTX_SPOOF_IP);
    /* vNIC match, and the packet's own MAC / IP are the VM's: their entries are given */
    assert_int_equal(ctx_profiles_attribute(p, "vnet3", MAC1, web_ip, &at), 1);
    assert_string_equal(at.mac->text, "52:54:00:ab:cd:01");
    assert_string_equal(at.ip->text, "192.0.2.10");
    /* glob vNIC */
    assert_int_equal(ctx_profiles_attribute(p, "tap3fff", NULL, NULL, &at), 1);
    assert_ptr_equal(at.vm, db);
    assert_int_equal(at.how, CTX_MATCH_VNIC_GLOB);
    assert_int_equal(at.spoof, 0);
    /* unknown vNIC: db-1 has vNICs of its own, so its MAC names no sender here (a spoof);
     * the IP of cache (no vNIC entry) does */
    assert_int_equal(ctx_profiles_attribute(p, "eth9", MAC2, cache_ip, &at), 1);
    assert_ptr_equal(at.vm, cache);
    assert_int_equal(at.how, CTX_MATCH_IP);
    assert_int_equal(at.spoof, CTX_SPOOF_MAC);
    assert_null(at.mac);
    assert_string_equal(at.ip->text, "2001:db8::c");
    /* the IP alone */
    assert_int_equal(ctx_profiles_attribute(p, "eth9", MACX, cache_ip, &at), 1);
    assert_ptr_equal(at.vm, cache);
    assert_int_equal(at.how, CTX_MATCH_IP);
    assert_int_equal(at.spoof, 0);
    assert_null(at.mac);
    assert_string_equal(at.ip->text, "2001:db8::c");
    /* web-1 lives on vnet3: its IP seen without a vNIC is not web-1 */
    assert_int_equal(ctx_profiles_attribute(p, NULL, NULL, web_ip, &at), 0);
    assert_int_equal(at.spoof, CTX_SPOOF_IP);
    (void)db;
    /* nothing */
    assert_int_equal(ctx_profiles_attribute(p, "eth9", MACX, none_ip, &at), 0);
    assert_null(at.vm);
    assert_int_equal(at.how, CTX_MATCH_NONE);
    assert_null(at.mac);
    assert_null(at.ip);
    assert_int_equal(ctx_profiles_attribute(p, NULL, NULL, NULL, &at), 0);
    at.vm = web;
    assert_int_equal(ctx_profiles_attribute(NULL, "vnet3", MAC1, web_ip, &at), 0); /* no store: unattributed */
    assert_null(at.vm);
    assert_int_equal(at.how, CTX_MATCH_NONE);
    assert_int_equal(ctx_profiles_attribute(p, "vnet3", NULL, NULL, NULL), CTX_EINVAL);
    ctx_profiles_unref(p);
}

/* The threat model (docs/threat-model.md): a guest writes its MAC and IP, not its vNIC. */
static const char SPOOF_DOC[] = "{\"vms\":["
    "{\"name\":\"a\",\"tenant\":\"acme\",\"vnic\":\"vnet1\",\"mac\":\"52:54:00:00:00:01\",\"ipv4\":\"10.0.0.1\"},"
    "{\"name\":\"b\",\"tenant\":\"globex\",\"vnic\":\"tap*\",\"mac\":\"52:54:00:00:00:02\",\"ipv4\":\"10.0.0.2\"},"
    "{\"name\":\"c\",\"tenant\":\"acme\",\"mac\":\"52:54:00:00:00:03\",\"ipv4\":\"10.0.0.3\"},"
    "{\"name\":\"d\",\"tenant\":\"globex\",\"mac\":\"52:54:00:00:00:04\",\"ipv4\":\"10.0.0.4\"}]}";

struct spoof_case {
    const char *ifname;
    int mac, ip;          /* VM number 1..4 whose MAC / IP the packet carries, 0 unknown, -1 none */
    const char *sender;   /* expected VM name, NULL: unattributed */
    ctx_match_t how;
    unsigned spoof;
};

static void spoof_case_run(const ctx_profiles_t *p, const struct spoof_case *c) {
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0, 0, (uint8_t)(c->mac > 0 ? c->mac : 0x77)}, ip[16];
    ip4("10.0.0.0", ip);
    ip[15] = (uint8_t)(c->ip > 0 ? c->ip : 77);
    ctx_attribution_t at;
    int r = ctx_profiles_attribute(p, c->ifname, c->mac < 0 ? NULL : mac, c->ip < 0 ? NULL : ip, &at);
    if (c->sender == NULL) {
        if (r != 0 || at.vm != NULL) fail_msg("%s mac %d ip %d: attributed to %s", c->ifname, c->mac, c->ip, at.vm->name);
    } else {
        if (r != 1 || at.vm == NULL || strcmp(at.vm->name, c->sender) != 0)
            fail_msg("%s mac %d ip %d: expected %s, got %s", c->ifname, c->mac, c->ip, c->sender, at.vm ? at.vm->name : "none");
    }
    if (at.how != c->how || at.spoof != c->spoof)
        fail_msg("%s mac %d ip %d: expected how %s spoof %u, got %s %u", c->ifname, c->mac, c->ip,
                 ctx_match_name(c->how), c->spoof, ctx_match_name(at.how), at.spoof);
    /* the entries given for $!ctx!vm are the sender's own, never another VM's */
    if (at.mac != NULL) assert_int_equal(at.mac->addr[5], c->mac);
    if (at.ip != NULL) assert_int_equal(at.ip->addr[15], c->ip);
    if (at.mac != NULL) assert_int_equal(at.vm->name[0], "abcd"[c->mac - 1]);
    if (at.ip != NULL) assert_int_equal(at.vm->name[0], "abcd"[c->ip - 1]);
}

static void attribution_cannot_be_steered_by_the_guest(void **state) {
    (void)state;
    ctx_profiles_t *p = load_ok(SPOOF_DOC);
    const struct spoof_case cases[] = {
        /* a vNIC that resolves to a VM: that VM, MAC and IP only confirm it */
        {"vnet1", 1, 1, "a", CTX_MATCH_VNIC, 0},
        {"vnet1", 2, 1, "a", CTX_MATCH_VNIC, CTX_SPOOF_MAC},          /* b's MAC (b has a vNIC) */
        {"vnet1", 1, 2, "a", CTX_MATCH_VNIC, CTX_SPOOF_IP},
        {"vnet1", 3, 4, "a", CTX_MATCH_VNIC, CTX_SPOOF_MAC | CTX_SPOOF_IP}, /* c and d have no vNIC: still not on a's */
        {"vnet1", 3, 3, "a", CTX_MATCH_VNIC, CTX_SPOOF_MAC | CTX_SPOOF_IP},
        {"vnet1", 0, 0, "a", CTX_MATCH_VNIC, 0},                       /* unknown MAC and IP: no VM's, no spoof */
        {"vnet1", -1, -1, "a", CTX_MATCH_VNIC, 0},
        {"tap7", 1, 2, "b", CTX_MATCH_VNIC_GLOB, CTX_SPOOF_MAC},       /* a glob claims the interface for b */
        {"tap7", 4, 0, "b", CTX_MATCH_VNIC_GLOB, CTX_SPOOF_MAC},
        /* a vNIC of no VM: MAC, then IP, of VMs without vNIC entries */
        {"vnet9", 3, 3, "c", CTX_MATCH_MAC, 0},
        {"vnet9", 3, 0, "c", CTX_MATCH_MAC, 0},
        {"vnet9", 0, 4, "d", CTX_MATCH_IP, 0},
        {"vnet9", -1, 4, "d", CTX_MATCH_IP, 0},
        {"vnet9", 3, 4, "c", CTX_MATCH_MAC, CTX_SPOOF_IP},              /* MAC first; d's IP is flagged */
        {"vnet9", 3, 1, "c", CTX_MATCH_MAC, CTX_SPOOF_IP},
        {"vnet9", 1, 4, "d", CTX_MATCH_IP, CTX_SPOOF_MAC},              /* a lives on vnet1: its MAC names nobody here */
        {"vnet9", 1, 0, NULL, CTX_MATCH_NONE, CTX_SPOOF_MAC},
        {"vnet9", 0, 2, NULL, CTX_MATCH_NONE, CTX_SPOOF_IP},
        {"vnet9", 1, 1, NULL, CTX_MATCH_NONE, CTX_SPOOF_MAC | CTX_SPOOF_IP},
        {"vnet9", 1, 2, NULL, CTX_MATCH_NONE, CTX_SPOOF_MAC | CTX_SPOOF_IP},
        {"vnet9", 0, 0, NULL, CTX_MATCH_NONE, 0},
        {NULL, 3, -1, "c", CTX_MATCH_MAC, 0},
        {NULL, 2, -1, NULL, CTX_MATCH_NONE, CTX_SPOOF_MAC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) spoof_case_run(p, &cases[i]);
    ctx_profiles_unref(p);
    assert_null(ctx_spoof_name(0));
    assert_string_equal(ctx_spoof_name(CTX_SPOOF_MAC), "mac");
    assert_string_equal(ctx_spoof_name(CTX_SPOOF_IP), "ip");
    assert_string_equal(ctx_spoof_name(CTX_SPOOF_MAC | CTX_SPOOF_IP), "both");
}

static void exact_vnic_beats_glob_and_globs_go_in_file_order(void **state) {
    (void)state;
    ctx_profiles_t *p = load_ok("{\"defaults\":{\"tenant\":\"t\"},\"vms\":["
                                "{\"name\":\"a\",\"vnic\":\"tap3*\"},"
                                "{\"name\":\"b\",\"vnic\":[\"vnet0\",\"tap*\"]},"
                                "{\"name\":\"c\",\"vnic\":\"tap30\"},"
                                "{\"name\":\"d\",\"vnic\":\"veth[0-3]\"}]}");
    ctx_match_t how;
    assert_string_equal(ctx_profiles_by_vnic(p, "tap30", &how)->name, "c"); /* exact beats a's earlier glob */
    assert_int_equal(how, CTX_MATCH_VNIC);
    assert_string_equal(ctx_profiles_by_vnic(p, "tap31", &how)->name, "a"); /* a's glob comes first */
    assert_int_equal(how, CTX_MATCH_VNIC_GLOB);
    assert_string_equal(ctx_profiles_by_vnic(p, "tap4", &how)->name, "b");
    assert_string_equal(ctx_profiles_by_vnic(p, "vnet0", &how)->name, "b");
    assert_string_equal(ctx_profiles_by_vnic(p, "veth2", &how)->name, "d");
    assert_null(ctx_profiles_by_vnic(p, "veth4", &how));
    assert_null(ctx_profiles_by_vnic(p, "ta", &how));
    ctx_profiles_unref(p);
}

static void minimal_documents(void **state) {
    (void)state;
    ctx_profiles_t *p = load_ok("{\"vms\":[]}");
    assert_int_equal(ctx_profiles_count(p), 0);
    ctx_attribution_t at;
    assert_int_equal(ctx_profiles_attribute(p, "vnet0", MAC1, NULL, &at), 0);
    ctx_profiles_unref(p);
    /* UTF-8 BOM, version 1, comment keys at every level, UTF-8 name */
    p = load_ok("\xef\xbb\xbf{\"_c\":{\"x\":[1]},\"version\":1,\"defaults\":{\"_c\":1},"
                "\"vms\":[{\"_c\":null,\"name\":\"caf\xc3\xa9 \xe2\x82\xac\",\"tenant\":\"A.b_c-9\"}]}");
    assert_int_equal(ctx_profiles_count(p), 1);
    assert_string_equal(ctx_profiles_at(p, 0)->name, "caf\xc3\xa9 \xe2\x82\xac");
    assert_null(ctx_profiles_at(p, 0)->user);
    assert_int_equal(ctx_profiles_at(p, 0)->line, 1);
    ctx_profiles_unref(p);
    /* same name in two tenants is fine; by_name keeps the first of a tenant */
    p = load_ok("{\"vms\":[{\"name\":\"w\",\"tenant\":\"a\"},{\"name\":\"w\",\"tenant\":\"b\"},"
                "{\"name\":\"w\",\"tenant\":\"a\",\"pid\":7}]}");
    assert_int_equal(ctx_profiles_by_name(p, "a", "w")->index, 0);
    assert_int_equal(ctx_profiles_by_name(p, "b", "w")->index, 1);
    ctx_profiles_unref(p);
}

static void conf_example_loads(void **state) {
    (void)state;
    char path[4096], err[CTX_ERRLEN] = "";
    ctx_profiles_t *p = NULL;
    data_path(path, sizeof path, "conf-examples/profiles.json");
    if (ctx_profiles_load_file(path, &p, err, sizeof err) != 0) fail_msg("%s", err);
    assert_int_equal(ctx_profiles_count(p), 3);
    assert_string_equal(ctx_profiles_at(p, 0)->name, "web-1");
    assert_string_equal(ctx_profiles_at(p, 1)->tenant, "globex");
    assert_string_equal(ctx_profiles_at(p, 2)->user, "ops-team");
    assert_string_equal(ctx_profiles_by_vnic(p, "tap3f2a9c1e-4b", NULL)->name, "db-1");
    ctx_profiles_unref(p);
}

static void references_and_slot(void **state) {
    (void)state;
    ctx_profiles_t *a = load_ok("{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\"}]}");
    ctx_profiles_t *b = load_ok("{\"vms\":[{\"name\":\"b\",\"tenant\":\"t\"},{\"name\":\"c\",\"tenant\":\"t\"}]}");
    ctx_slot_t *s = NULL;
    assert_int_equal(ctx_profiles_slot_new(&s), 0);
    assert_null(ctx_profiles_current(s));
    assert_int_equal(ctx_slot_generation(s), 0);
    assert_int_equal(ctx_slot_set(s, a), 0); /* the slot owns a's only reference */
    assert_int_equal(ctx_slot_generation(s), 1);
    ctx_profiles_t *held = ctx_profiles_current(s);
    assert_ptr_equal(held, a);
    assert_int_equal(ctx_slot_set(s, b), 0); /* a lives on through held */
    assert_int_equal(ctx_slot_generation(s), 2);
    assert_string_equal(ctx_profiles_at(held, 0)->name, "a");
    ctx_profiles_unref(held); /* frees a (ASan reports a leak or a double free otherwise) */
    held = ctx_profiles_current(s);
    assert_int_equal(ctx_profiles_count(held), 2);
    assert_ptr_equal(ctx_profiles_ref(held), held);
    ctx_profiles_unref(held);
    ctx_profiles_unref(held);
    ctx_slot_free(s); /* frees b */
    assert_null(ctx_profiles_current(NULL));
    ctx_profiles_unref(NULL);
    assert_null(ctx_profiles_ref(NULL));
    assert_int_equal(ctx_profiles_count(NULL), 0);
}

struct reader {
    ctx_slot_t *slot;
    atomic_int *stop;
    unsigned long reads, bad;
};

/* a worker's way: a ctx_slot_reader_t, re-acquired only when the generation changed */
static void *reader_main(void *arg) {
    struct reader *r = arg;
    ctx_slot_reader_t rd = CTX_SLOT_READER_INIT;
    while (!atomic_load(r->stop)) {
        const ctx_profiles_t *p = ctx_slot_read(r->slot, &rd);
        /* every store has VMs named after its own size */
        size_t n = ctx_profiles_count(p);
        ctx_match_t how;
        const ctx_profile_t *v = ctx_profiles_by_vnic(p, "vnet0", &how);
        char want[16];
        snprintf(want, sizeof want, "n%zu", n);
        if (v == NULL || strcmp(v->name, want) != 0 || how != CTX_MATCH_VNIC) r->bad++;
        r->reads++;
    }
    ctx_slot_reader_drop(&rd);
    return NULL;
}

static ctx_profiles_t *store_of_size(size_t n) {
    char doc[4096];
    int o = snprintf(doc, sizeof doc, "{\"vms\":[");
    for (size_t i = 0; i < n; i++)
        o += snprintf(doc + o, sizeof doc - (size_t)o, "%s{\"name\":\"n%zu\",\"tenant\":\"t\",\"vnic\":\"vnet%zu\"}",
                      i ? "," : "", n, i);
    snprintf(doc + o, sizeof doc - (size_t)o, "]}");
    return load_ok(doc);
}

/* HUP while workers read: 4 readers, 300 swaps; each reader must always see one whole store. */
static void slot_swaps_under_concurrent_readers(void **state) {
    (void)state;
    ctx_slot_t *s = NULL;
    atomic_int stop = 0;
    struct reader rd[4];
    pthread_t th[4];
    assert_int_equal(ctx_profiles_slot_new(&s), 0);
    assert_int_equal(ctx_slot_set(s, store_of_size(1)), 0);
    for (int i = 0; i < 4; i++) {
        rd[i] = (struct reader){s, &stop, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
    }
    for (int k = 0; k < 300; k++) {
        assert_int_equal(ctx_slot_set(s, store_of_size(1 + (size_t)(k % 5))), 0);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rd[i].bad, 0);
        ASSERT_GT(rd[i].reads, 0);
    }
    assert_int_equal(ctx_slot_generation(s), 301);
    ctx_slot_free(s);
}

/* 5,000 VMs, each with a uuid, a MAC, an IPv4, an IPv6, an exact vNIC; every 10th also a glob. */
static void five_thousand_vms(void **state) {
    (void)state;
    enum { N = 5000 };
    size_t cap = (size_t)N * 400, o;
    char *doc = malloc(cap);
    assert_non_null(doc);
    o = (size_t)snprintf(doc, cap, "{\"defaults\":{\"tenant\":\"t\"},\"vms\":[\n");
    for (int i = 0; i < N; i++) {
        o += (size_t)snprintf(doc + o, cap - o,
                              "%s{\"name\":\"vm%d\",\"uuid\":\"00000000-0000-4000-8000-%012d\",\"mac\":\"52:54:00:%02x:"
                              "%02x:%02x\",\"ipv4\":\"10.%d.%d.%d\",\"ipv6\":\"2001:db8::%x\",\"vnic\":[\"vnet%d\"",
                              i ? "," : "", i, i, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, (i >> 16) & 0xff,
                              (i >> 8) & 0xff, i & 0xff, i + 1, i);
        o += (size_t)snprintf(doc + o, cap - o, i % 10 == 0 ? ",\"g%d*\"]}\n" : "]}\n", i);
    }
    o += (size_t)snprintf(doc + o, cap - o, "]}");
    ctx_profiles_t *p = NULL;
    char err[CTX_ERRLEN] = "";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = ctx_profiles_load_buffer(doc, o, "big.json", &p, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r != 0) fail_msg("%s", err);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ASSERT_LT(secs, 5.0); /* ~0.1 s under ASan; quadratic work would take minutes */
    assert_int_equal(ctx_profiles_count(p), N);
    for (int i = 0; i < N; i++) {
        uint8_t mac[6] = {0x52, 0x54, 0x00, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}, a[16];
        char name[32], uuid[40], vnic[16], v4[32];
        snprintf(name, sizeof name, "vm%d", i);
        snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
        snprintf(vnic, sizeof vnic, "vnet%d", i);
        snprintf(v4, sizeof v4, "10.%d.%d.%d", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
        const ctx_profile_t *v = ctx_profiles_at(p, (size_t)i);
        assert_string_equal(v->name, name);
        assert_int_equal(v->line, i + 2);
        assert_ptr_equal(ctx_profiles_by_mac(p, mac, NULL), v);
        assert_ptr_equal(ctx_profiles_by_uuid(p, uuid), v);
        assert_ptr_equal(ctx_profiles_by_vnic(p, vnic, NULL), v);
        assert_ptr_equal(ctx_profiles_by_name(p, "t", name), v);
        ip4(v4, a);
        assert_ptr_equal(ctx_profiles_by_ip(p, a, NULL), v);
        memset(a, 0, sizeof a);
        a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8, a[14] = (uint8_t)((i + 1) >> 8), a[15] = (uint8_t)(i + 1);
        assert_ptr_equal(ctx_profiles_by_ip(p, a, NULL), v);
    }
    ctx_match_t how;
    /* "g1000x" matches g10*, g100* and g1000*: the first in file order wins */
    assert_string_equal(ctx_profiles_by_vnic(p, "g1000x", &how)->name, "vm10");
    assert_int_equal(how, CTX_MATCH_VNIC_GLOB);
    assert_string_equal(ctx_profiles_by_vnic(p, "g4990", &how)->name, "vm4990");
    assert_null(ctx_profiles_by_vnic(p, "g1", NULL));
    assert_null(ctx_profiles_by_vnic(p, "vnet5000", NULL));
    ctx_profiles_unref(p);
    free(doc);
}

static void helpers(void **state) {
    (void)state;
    static const struct {
        const char *id;
        int valid;
    } ids[] = {
        {"acme", 1},
        {"A.b_c-9", 1},
        {"...", 1},
        {"a234567890123456789012345678901234567890123456789012345678901234", 1},
        {"a2345678901234567890123456789012345678901234567890123456789012345", 0},
        {"", 0},
        {".", 0},
        {"..", 0},
        {"a/b", 0},
        {"a b", 0},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ctx_tenant_id_valid(ids[i].id) != ids[i].valid)
            fail_msg("tenant id '%s': valid %d, expected %d", ids[i].id, ctx_tenant_id_valid(ids[i].id), ids[i].valid);
    assert_int_equal(ctx_tenant_id_valid(NULL), 0);
    assert_string_equal(ctx_match_name(CTX_MATCH_NONE), "none");
    assert_string_equal(ctx_match_name(CTX_MATCH_VNIC), "vnic");
    assert_string_equal(ctx_match_name(CTX_MATCH_VNIC_GLOB), "vnic-glob");
    assert_string_equal(ctx_match_name(CTX_MATCH_MAC), "mac");
    assert_string_equal(ctx_match_name(CTX_MATCH_IP), "ip");
    uint8_t v4[4] = {192, 0, 2, 1}, out[16], want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    ctx_ip_map_v4(v4, out);
    assert_memory_equal(out, want, 16);
}

CTX_TEST_MAIN(NULL, NULL,
    cmocka_unit_test(loads_every_field),
    cmocka_unit_test(lookups_by_each_key),
    cmocka_unit_test(attribution_order_is_vnic_mac_ip),
    cmocka_unit_test(attribution_cannot_be_steered_by_the_guest),
    cmocka_unit_test(exact_vnic_beats_glob_and_globs_go_in_file_order),
    cmocka_unit_test(minimal_documents),
    cmocka_unit_test(conf_example_loads),
    cmocka_unit_test(references_and_slot),
    cmocka_unit_test(slot_swaps_under_concurrent_readers),
    cmocka_unit_test(five_thousand_vms),
    cmocka_unit_test(helpers))
