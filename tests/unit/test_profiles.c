/* test_profiles.c: the VM profiles store: loading every field, every validation
 * message (exact text and line), lookups and attribution order, reference counting
 * and the HUP slot under concurrent readers, 5,000 VMs, fuzz corpus replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctxlog_common.h"
#include "profiles.h"

static const char *srcdir(void) {
    const char *d = getenv("top_srcdir");
    return d ? d : ".";
}

static void data_path(char *buf, size_t bl, const char *rel) {
    snprintf(buf, bl, "%s/%s", srcdir(), rel);
}

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

struct bad_doc {
    const char *doc;
    const char *err;
};

/* Every validation message, exactly, with its line. */
static const struct bad_doc bad_docs[] = {
    {"", "p.json: line 1: the file is empty (expected a JSON object with a \"vms\" array)"},
    {" \n\t", "p.json: line 1: the file is empty (expected a JSON object with a \"vms\" array)"},
    {"{\"vms\":[\n]} x", "p.json: line 2, column 4: unexpected data after the end of the JSON document"},
    {"{\"vms\":[]}{}", "p.json: line 1, column 11: unexpected data after the end of the JSON document"},
    {"{\"vms\":[\n  1,\n]}", "p.json: line 3, column 1: JSON syntax error: unexpected character"},
    {"{\"vms\":[\n", "p.json: line 2, column 1: JSON syntax error: unexpected end of file (an object, array or "
                   "string is not closed)"},
    {"{\"vms\":['a']}", "p.json: line 1, column 9: JSON syntax error: unexpected character"},
    {"{\"vms\":[],\n'vms':[]}", "p.json: line 2: top level: key \"vms\" appears twice (lines 1 and 2)"},
    {"{\"vms\":[], /* c */}", "p.json: line 1, column 12: JSON syntax error: quoted object property name expected"},
    {"[]", "p.json: line 1: top level: expected an object, got an array"},
    {"\"x\"", "p.json: line 1: top level: expected an object, got \"x\""},
    {"{}", "p.json: line 1: top level: missing key \"vms\" (an array of VM objects)"},
    {"{\"vms\":[],\n\"vms\":[]}", "p.json: line 2: top level: key \"vms\" appears twice (lines 1 and 2)"},
    {"{\"vms\":[],\n \"VMs\":[]}", "p.json: line 2: top level: unknown key \"VMs\" (expected version, defaults, vms; "
                                 "keys starting with \"_\" are ignored)"},
    {"{\"vms\":{}}", "p.json: line 1: vms: expected an array of VM objects, got an object"},
    {"{\"vms\":[],\"version\":2}", "p.json: line 1: version: expected 1, got 2"},
    {"{\"vms\":[],\"version\":\"1\"}", "p.json: line 1: version: expected 1, got \"1\""},
    {"{\"vms\":[],\"defaults\":[]}", "p.json: line 1: defaults: expected an object, got an array"},
    {"{\"vms\":[],\"defaults\":{\"cgroup\":\"/x\"}}", "p.json: line 1: defaults: unknown key \"cgroup\" (expected "
                                                   "tenant, user; keys starting with \"_\" are ignored)"},
    {"{\"vms\":[],\"defaults\":{\"tenant\":\"..\"}}", "p.json: line 1: defaults.tenant: expected 1 to 64 characters "
                                                     "of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), got \"..\""},
    {"{\"vms\":[],\"defaults\":{\"user\":7}}", "p.json: line 1: defaults.user: expected a string, got 7"},
    {"{\"vms\":[\n{\"name\":\"a\",\"tenant\":\"t\"},\n\"b\"]}", "p.json: line 3: vms[1]: expected an object, got \"b\""},
    {"{\"vms\":[{\"tenant\":\"t\"}]}", "p.json: line 1: vms[0]: missing key \"name\""},
    {"{\"vms\":[{\"name\":\"a\"}]}", "p.json: line 1: vms[0]: missing key \"tenant\" (and no \"tenant\" in "
                                   "\"defaults\")"},
    {"{\"vms\":[{\"name\":\"\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of UTF-8 "
                                                 "text without control characters, got \"\""},
    {"{\"vms\":[{\"name\":\"a\\nb\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of "
                                                      "UTF-8 text without control characters, got \"a\\x0ab\""},
    {"{\"vms\":[{\"name\":\"\xc3\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes of "
                                                     "UTF-8 text without control characters, got \"\\xc3\""},
    {"{\"vms\":[{\"name\":\"\xed\xa0\x80\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 "
                                                      "bytes of UTF-8 text without control characters, got "
                                                      "\"\\xed\\xa0\\x80\""},
    {"{\"vms\":[{\"name\":\"\\u0085\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected 1 to 255 bytes "
                                                        "of UTF-8 text without control characters, got "
                                                        "\"\\xc2\\x85\""},
    {"{\"vms\":[{\"name\":\"a\\u0000\",\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: contains a NUL character "
                                                         "(\\u0000)"},
    {"{\"vms\":[{\"name\":[\"a\"],\"tenant\":\"t\"}]}", "p.json: line 1: vms[0].name: expected a string, got an "
                                                    "array"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"acme corp\"}]}", "p.json: line 1: vms[0].tenant: expected 1 to 64 "
                                                          "characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), "
                                                          "got \"acme corp\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"default\"}]}", "p.json: line 1: vms[0].tenant: \"default\" is "
                                                         "reserved (omtenant's destination for tenants it has no "
                                                         "entry for), expected another tenant id"},
    {"{\"vms\":[],\"defaults\":{\"tenant\":\"unknown\"}}", "p.json: line 1: defaults.tenant: \"unknown\" is "
                                                          "reserved (the tenant of messages no profile claims), "
                                                          "expected another tenant id"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"user\":null}]}", "p.json: line 1: vms[0].user: expected a "
                                                                "string, got null"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"uuid\":\"6f1c2a4e0b7d4c1e9a8f2d3b4c5d6e7f\"}]}",
     "p.json: line 1: vms[0].uuid: expected a UUID like \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\", got "
     "\"6f1c2a4e0b7d4c1e9a8f2d3b4c5d6e7f\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"zz\"}]}", "p.json: line 1: vms[0].mac: expected "
                                                                 "\"xx:xx:xx:xx:xx:xx\", got \"zz\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"52-54-00-ab-cd-01\"}]}",
     "p.json: line 1: vms[0].mac: expected \"xx:xx:xx:xx:xx:xx\", got \"52-54-00-ab-cd-01\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"01:00:5e:00:00:01\"}]}",
     "p.json: line 1: vms[0].mac: \"01:00:5e:00:00:01\" is a multicast address, not a VM's source MAC"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"00:00:00:00:00:00\"}]}",
     "p.json: line 1: vms[0].mac: \"00:00:00:00:00:00\" is not a valid source MAC"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":{}}]}", "p.json: line 1: vms[0].mac: expected a string or "
                                                             "an array of strings, got an object"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\n\"ipv4\":[\"10.0.0.1\",\n true]}]}",
     "p.json: line 3: vms[0].ipv4[1]: expected a string, got true"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"10.0.0\"}]}", "p.json: line 1: vms[0].ipv4: expected an "
                                                                      "IPv4 address like \"192.0.2.10\", got "
                                                                      "\"10.0.0\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"2001:db8::1\"}]}", "p.json: line 1: vms[0].ipv4: "
                                                                           "expected an IPv4 address like "
                                                                           "\"192.0.2.10\", got \"2001:db8::1\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"0.0.0.0\"}]}", "p.json: line 1: vms[0].ipv4: "
                                                                       "\"0.0.0.0\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":\"255.255.255.255\"}]}",
     "p.json: line 1: vms[0].ipv4: \"255.255.255.255\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"fe80::1%vnet0\"}]}", "p.json: line 1: vms[0].ipv6: "
                                                                             "expected an IPv6 address like "
                                                                             "\"2001:db8::10\", got "
                                                                             "\"fe80::1%vnet0\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"::ffff:10.0.0.1\"}]}",
     "p.json: line 1: vms[0].ipv6: \"::ffff:10.0.0.1\" is an IPv4-mapped address: list it under \"ipv4\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":[\"ff02::1\"]}]}", "p.json: line 1: vms[0].ipv6[0]: "
                                                                         "\"ff02::1\" is not a unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"::\"}]}", "p.json: line 1: vms[0].ipv6: \"::\" is not a "
                                                                  "unicast address"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":\"eth0:1\"}]}", "p.json: line 1: vms[0].vnic: \"eth0:1\": "
                                                                      "character ':' at offset 4 is not allowed in "
                                                                      "an interface name"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":[\"\"]}]}", "p.json: line 1: vms[0].vnic[0]: \"\": empty "
                                                                  "pattern"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"cgroup\":\"machine.slice\"}]}",
     "p.json: line 1: vms[0].cgroup: expected an absolute path (starting with \"/\", at most 4095 bytes, no \"..\" "
     "component, no control characters), got \"machine.slice\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"cgroup\":\"/sys/fs/cgroup/..\"}]}",
     "p.json: line 1: vms[0].cgroup: expected an absolute path (starting with \"/\", at most 4095 bytes, no \"..\" "
     "component, no control characters), got \"/sys/fs/cgroup/..\""},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":0}]}", "p.json: line 1: vms[0].pid: expected an integer "
                                                            "from 1 to 4194304, got 0"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":4194305}]}", "p.json: line 1: vms[0].pid: expected an "
                                                                  "integer from 1 to 4194304, got 4194305"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"pid\":\"12\"}]}", "p.json: line 1: vms[0].pid: expected an "
                                                                 "integer from 1 to 4194304, got \"12\""},
    /* duplicates across and within VMs */
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"uuid\":\"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"uuid\":\"6F1C2A4E-0B7D-4C1E-9A8F-2D3B4C5D6E7F\"}]}",
     "p.json: line 2: vms[1].uuid: \"6f1c2a4e-0b7d-4c1e-9a8f-2d3b4c5d6e7f\" is already used by vms[0] (\"a\", line "
     "1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"mac\":\"52:54:00:AB:CD:01\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"mac\":[\"52:54:00:ab:cd:02\",\n\"52:54:00:ab:cd:01\"]}]}",
     "p.json: line 3: vms[1].mac[1]: \"52:54:00:ab:cd:01\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv6\":\"2001:db8::1\"},\n"
     "{\"name\":\"b\",\"tenant\":\"t\",\"ipv4\":\"10.1.1.1\",\"ipv6\":\"2001:DB8:0::1\"}]}",
     "p.json: line 2: vms[1].ipv6: \"2001:db8::1\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"ipv4\":[\"10.1.1.1\",\"10.1.1.2\",\"10.1.1.1\"]}]}",
     "p.json: line 1: vms[0].ipv4[2]: \"10.1.1.1\" appears twice in this VM"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":\"vnet1\"},{\"name\":\"b\",\"tenant\":\"t\",\"vnic\":"
     "\"vnet1\"}]}",
     "p.json: line 1: vms[1].vnic: \"vnet1\" is already used by vms[0] (\"a\", line 1)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\"vnic\":[\"tap*\",\"tap*\"]}]}",
     "p.json: line 1: vms[0].vnic[1]: \"tap*\" appears twice in this VM"},
    {"{\"vms\":[{\"name\":\"a\",\n\"tenant\":\"t\",\n\"name\":\"b\"}]}", "p.json: line 3: vms[0]: key \"name\" "
                                                                      "appears twice (lines 1 and 3)"},
    {"{\"vms\":[{\"name\":\"a\",\"tenant\":\"t\",\n\"mac \":\"x\"}]}", "p.json: line 2: vms[0]: unknown key \"mac \" "
                                                                   "(expected name, uuid, tenant, user, ipv4, ipv6, "
                                                                   "mac, vnic, cgroup, pid; keys starting with \"_\" "
                                                                   "are ignored)"},
};

static void rejects_with_one_exact_line(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof bad_docs / sizeof *bad_docs; i++) {
        const struct bad_doc *c = &bad_docs[i];
        ctx_profiles_t *p = (ctx_profiles_t *)1;
        char err[CTX_ERRLEN] = "";
        int r = ctx_profiles_load_buffer(c->doc, strlen(c->doc), "p.json", &p, err, sizeof err);
        if (r != CTX_EPARSE || p != NULL || strcmp(err, c->err) != 0)
            fail_msg("case %zu: got %d\n  \"%s\"\nexpected\n  \"%s\"", i, r, err, c->err);
        assert_null(strchr(err, '\n'));
    }
}

static void nul_byte_and_odd_arguments(void **state) {
    (void)state;
    ctx_profiles_t *p = NULL;
    char err[CTX_ERRLEN];
    static const char doc[] = "{\"vms\":[\n{\"name\":\"a\0\"}]}";
    assert_int_equal(ctx_profiles_load_buffer(doc, sizeof doc - 1, "p.json", &p, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, "p.json: line 2, column 11: NUL byte in the file");
    /* the name defaults to "profiles"; a buffer need not be NUL-terminated */
    static const char cut[] = "{\"vms\":[]}GARBAGE";
    assert_int_equal(ctx_profiles_load_buffer(cut, 10, NULL, &p, err, sizeof err), 0);
    assert_string_equal(ctx_profiles_source(p), "profiles");
    ctx_profiles_unref(p);
    assert_int_equal(ctx_profiles_load_buffer(cut, 11, NULL, &p, err, sizeof err), CTX_EPARSE);
    assert_string_equal(err, "profiles: line 1, column 11: unexpected data after the end of the JSON document");
    /* a short error buffer is cut, not overrun; no buffer at all is fine */
    char small[16];
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", &p, small, sizeof small), CTX_EPARSE);
    assert_string_equal(small, "p.json: line 1:");
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", &p, NULL, 0), CTX_EPARSE);
    assert_int_equal(ctx_profiles_load_buffer(NULL, 0, "p.json", &p, err, sizeof err), CTX_EPARSE);
    assert_int_equal(ctx_profiles_load_buffer(NULL, 5, "p.json", &p, err, sizeof err), CTX_EINVAL);
    assert_int_equal(ctx_profiles_load_buffer("{}", 2, "p.json", NULL, err, sizeof err), CTX_EINVAL);
}

struct bad_file {
    const char *file;
    const char *err; /* after "<path>: " */
};

/* The sample files an operator might write, with the message they get. */
static void bad_sample_files(void **state) {
    (void)state;
    static const struct bad_file cases[] = {
        {"bad-mac.json", "line 11: vms[1].mac: expected \"xx:xx:xx:xx:xx:xx\", got \"52:54:00:zz:01\""},
        {"bad-dup-ip.json", "line 10: vms[2].ipv4[1]: \"192.0.2.11\" is already used by vms[1] (\"web-2\", line 5)"},
        {"bad-dup-key.json", "line 8: vms[0]: key \"mac\" appears twice (lines 6 and 8)"},
        {"bad-dup-vnic.json", "line 6: vms[2].vnic: \"tap3f*\" is already used by vms[0] (\"web-1\", line 4)"},
        {"bad-tenant.json", "line 4: vms[1].tenant: expected 1 to 64 characters of A-Z a-z 0-9 . _ - (not \".\" or "
                            "\"..\"), got \"acme corp\""},
        {"bad-trailing-comma.json", "line 5, column 3: JSON syntax error: unexpected character"},
        {"bad-unclosed.json", "line 4, column 1: JSON syntax error: unexpected end of file (an object, array or "
                              "string is not closed)"},
        {"bad-unknown-key.json", "line 6: vms[0]: unknown key \"ipv4s\" (expected name, uuid, tenant, user, ipv4, "
                                 "ipv6, mac, vnic, cgroup, pid; keys starting with \"_\" are ignored)"},
        {"bad-vnic.json", "line 4: vms[0].vnic[1]: \"tap[3\": '[' at offset 3 is not closed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char rel[256], path[4096], want[5000], err[CTX_ERRLEN];
        ctx_profiles_t *p = (ctx_profiles_t *)1;
        snprintf(rel, sizeof rel, "tests/data/profiles/%s", cases[i].file);
        data_path(path, sizeof path, rel);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].err);
        int r = ctx_profiles_load_file(path, &p, err, sizeof err);
        if (r != CTX_EPARSE || p != NULL || strcmp(err, want) != 0)
            fail_msg("%s: got %d\n  \"%s\"\nexpected\n  \"%s\"", cases[i].file, r, err, want);
    }
}

static void file_errors(void **state) {
    (void)state;
    ctx_profiles_t *p = (ctx_profiles_t *)1;
    char path[4096], want[5000], err[CTX_ERRLEN];
    data_path(path, sizeof path, "tests/data/profiles/no-such-file.json");
    assert_int_equal(ctx_profiles_load_file(path, &p, err, sizeof err), CTX_EIO);
    assert_null(p);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
    assert_string_equal(err, want);
    data_path(path, sizeof path, "tests/data/profiles");
    assert_int_equal(ctx_profiles_load_file(path, &p, err, sizeof err), CTX_EIO);
    snprintf(want, sizeof want, "%s: cannot read: not a regular file", path);
    assert_string_equal(err, want);
    assert_int_equal(ctx_profiles_load_file(NULL, &p, err, sizeof err), CTX_EINVAL);
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

/* Every input kept under tests/fuzz/corpus/profiles/ loads or fails cleanly with one line. */
static void fuzz_corpus_replay(void **state) {
    (void)state;
    char dir[4096];
    data_path(dir, sizeof dir, "tests/fuzz/corpus/profiles");
    DIR *d = opendir(dir);
    if (d == NULL) fail_msg("no corpus at %s", dir);
    struct dirent *e;
    unsigned files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[8192], err[CTX_ERRLEN] = "";
        ctx_profiles_t *p = NULL;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int r = ctx_profiles_load_file(path, &p, err, sizeof err);
        if (r == 0) {
            assert_non_null(p);
            ctx_profiles_unref(p);
        } else {
            assert_null(p);
            assert_memory_equal(err, path, strlen(path));
            assert_null(strchr(err, '\n'));
        }
        files++;
    }
    closedir(d);
    ASSERT_GT(files, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_every_field),
        cmocka_unit_test(lookups_by_each_key),
        cmocka_unit_test(attribution_order_is_vnic_mac_ip),
        cmocka_unit_test(attribution_cannot_be_steered_by_the_guest),
        cmocka_unit_test(exact_vnic_beats_glob_and_globs_go_in_file_order),
        cmocka_unit_test(minimal_documents),
        cmocka_unit_test(rejects_with_one_exact_line),
        cmocka_unit_test(nul_byte_and_odd_arguments),
        cmocka_unit_test(bad_sample_files),
        cmocka_unit_test(file_errors),
        cmocka_unit_test(conf_example_loads),
        cmocka_unit_test(references_and_slot),
        cmocka_unit_test(slot_swaps_under_concurrent_readers),
        cmocka_unit_test(five_thousand_vms),
        cmocka_unit_test(helpers),
        cmocka_unit_test(fuzz_corpus_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
