/* profiles_lvxml.h: one libvirt domain's XML (virDomainGetXMLDesc) -> the profile
 * fields ctxlog takes from it. Pure parsing (libxml2), no libvirt call: unit-tested
 * with hostile documents.
 *
 * What is read (docs/profiles.md, "Profiles from libvirt"):
 * - /domain/name, /domain/uuid (both required), /domain/@id, /domain/@type;
 * - every /domain/devices/interface with a <target dev> (a running domain's vNIC)
 *   and its <mac address>;
 * - /domain/metadata: <ctxlog:vm xmlns:ctxlog="urn:ctxlog:libvirt:1" tenant= user= name=>
 *   and Nova's <nova:instance> (namespaces .../nova/1.0 and 1.1): nova:name (display
 *   name), nova:owner/nova:project/@uuid (tenant), nova:owner/nova:user (user);
 *   ctxlog's element wins over Nova's, attribute by attribute;
 * - the cgroup of a running kvm/qemu/lxc domain's machine.slice scope, derived from
 *   its id, name and <resource><partition> the way libvirt and systemd name it.
 *
 * Trust (docs/threat-model.md): the domain name, UUID, target devs, Nova's project
 * and user are written by the host's management; a tenant chooses its display name
 * (nova:name) and may choose its MACs. So a bad display name or user name is
 * dropped (the domain keeps its other fields: a tenant cannot make its domain
 * vanish by renaming it), and a bad MAC or target dev drops only that interface.
 * A bad name, UUID or ctxlog tenant (written by the host) rejects the domain.
 *
 * Threads: no shared state; the caller serializes use of one ctx_lvdom_t.
 */
#ifndef CTXLOG_PROFILES_LVXML_H
#define CTXLOG_PROFILES_LVXML_H

#include <stddef.h>

#define CTX_LV_NS_CTXLOG "urn:ctxlog:libvirt:1"
#define CTX_LV_NS_NOVA_1_0 "http://openstack.org/xmlns/libvirt/nova/1.0"
#define CTX_LV_NS_NOVA_1_1 "http://openstack.org/xmlns/libvirt/nova/1.1"
#define CTX_LV_MAX_XML (4u << 20) /* larger documents are refused */
#define CTX_LV_MAX_IFACES 256     /* interfaces read per domain */

/* One vNIC of a domain: both strings checked (dev: an interface name, no glob
 * character; mac: "xx:xx:xx:xx:xx:xx", lower case, unicast), owned by the domain. */
typedef struct ctx_lviface {
    char *dev;
    char *mac; /* or NULL when the interface has none or a bad one */
} ctx_lviface_t;

/* A domain's fields. Strings are owned (ctx_lvdom_clear frees them); NULL = absent. */
typedef struct ctx_lvdom {
    char *dom_name;  /* /domain/name: 1..255 bytes of text */
    char *uuid;      /* lower-case 8-4-4-4-12 */
    char *name;      /* the profile's name: ctxlog:vm/@name, else nova:name, else dom_name */
    char *tenant;    /* ctxlog:vm/@tenant, else nova:project/@uuid (a valid tenant id) */
    char *user;      /* ctxlog:vm/@user, else nova:user's text, else its @uuid */
    char *cgroup;    /* machine.slice scope of a running kvm/qemu/lxc domain */
    size_t n_ifaces;
    ctx_lviface_t *ifaces; /* interfaces with a target dev, document order */
    unsigned dropped;      /* tenant-controlled values and interfaces left out as invalid */
} ctx_lvdom_t;

/* Parses xml[0..len) (borrowed) into *out (zeroed first; ctx_lvdom_clear it after
 * success or failure). The document must be a <domain> without a DOCTYPE (libvirt
 * never writes one: no entity can expand); the network is never used.
 * Returns 0; CTX_EPARSE with ONE line in err:
 *   `domain "<name or ?>": <what>: expected <...>, got "<value>"` or `not a libvirt
 *   domain document: <libxml2's message>`;
 * CTX_EFULL (larger than CTX_LV_MAX_XML), CTX_ENOMEM, CTX_EINVAL (NULL xml or out). */
int ctx_lvdom_parse(const char *xml, size_t len, ctx_lvdom_t *out, char *err, size_t errlen);

/* Frees what *d owns and zeroes it. NULL is a no-op. */
void ctx_lvdom_clear(ctx_lvdom_t *d);

/* The cgroup path libvirt gives a running domain through systemd-machined:
 * partition "/machine" -> "/machine.slice/machine-qemu\x2d<id>\x2d<name>.scope",
 * the machine name being "<driver>-<id>-<name>" with characters other than
 * [A-Za-z0-9.-] dropped, a '-' or '.' kept only after another kept character (runs
 * collapse to their first), cut at 64 bytes, trailing '-' and '.' trimmed (libvirt
 * 9.0's virDomainDriverGenerateMachineName); systemd escaping (each '-' as \x2d, other
 * non [A-Za-z0-9:_.] as \xNN), as libvirt's virSystemdMakeScopeName.
 * driver: "qemu" or "lxc"; partition: "/X", X of [A-Za-z0-9_] (one level; NULL = "/machine").
 * Returns 0, or CTX_EINVAL (id < 1, other partition shapes), CTX_EFULL (out too small). */
int ctx_lv_machine_cgroup(const char *driver, long id, const char *dom_name, const char *partition, char *out,
                          size_t outlen);

#endif
