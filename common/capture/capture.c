/* capture.c: libpcap handles per interface, driven by poll(), plus rtnetlink
 * link notifications to attach and detach interfaces at run time.
 *
 * Concurrency: see capture.h. Counters shared with other threads are updated
 * with relaxed atomics; the handle table belongs to the capture thread.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctxlog_common.h"

#define CAP_MAX_IFACES 4096
#define CAP_FILTER_MAX 4096

struct capif {
    char name[IF_NAMESIZE];
    pcap_t *p;
    int fd;
    uint64_t drops_seen; /* ps_drop already added to the total */
};

struct ctx_capture {
    struct ctx_capture_cfg cfg;
    char filter[CAP_FILTER_MAX];
    struct capif *ifs;
    size_t n_ifs, cap_ifs;
    int nl_fd;
    int wake_fd;
    volatile int stop;
    struct ctx_capture_stats st; /* atomics */
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void cap_log(ctx_capture_t *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cap_log(ctx_capture_t *c, int level, const char *fmt, ...) {
    char buf[CTX_ERRLEN];
    va_list ap;
    if (c->cfg.on_log == NULL) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->cfg.on_log(c->cfg.ud, level, buf);
}

static void st_add(uint64_t *ctr, uint64_t n) { __atomic_fetch_add(ctr, n, __ATOMIC_RELAXED); }

/* appends "dst port A or dst port B ..." for one protocol */
static int append_ports(char *buf, size_t buflen, size_t *pos, const char *proto, const uint16_t *ports, size_t n) {
    int w = snprintf(buf + *pos, buflen - *pos, "(%s and (", proto);
    if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
    *pos += (size_t)w;
    for (size_t i = 0; i < n; ++i) {
        w = snprintf(buf + *pos, buflen - *pos, "%sdst port %u", i ? " or " : "", ports[i]);
        if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
        *pos += (size_t)w;
    }
    w = snprintf(buf + *pos, buflen - *pos, "))");
    if (w < 0 || (size_t)w >= buflen - *pos) return CTX_EINVAL;
    *pos += (size_t)w;
    return 0;
}

/* the part of the filter that follows the (possibly VLAN-shifted) link header */
static int filter_inner(const uint16_t *udp, size_t n_udp, const uint16_t *tcp, size_t n_tcp, char *buf, size_t buflen) {
    size_t pos = 0;
    int w;
    if (append_ports(buf, buflen, &pos, "udp", udp, n_udp) != 0) return CTX_EINVAL;
    if (n_tcp > 0) {
        if (pos + 4 >= buflen) return CTX_EINVAL;
        memcpy(buf + pos, " or ", 5);
        pos += 4;
        if (append_ports(buf, buflen, &pos, "tcp", tcp, n_tcp) != 0) return CTX_EINVAL;
    }
    /* IPv4 fragments (MF set or offset non-zero) and IPv6 with extension headers
     * (hop-by-hop 0, routing 43, fragment 44, destination options 60) */
    w = snprintf(buf + pos, buflen - pos,
                 " or (ip and ip[6:2] & 0x3fff != 0)"
                 " or (ip6 and (ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 44 or ip6[6] == 60))");
    if (w < 0 || (size_t)w >= buflen - pos) return CTX_EINVAL;
    return (int)(pos + (size_t)w);
}

int ctx_capture_filter(const uint16_t *udp_ports, size_t n_udp, const uint16_t *tcp_ports, size_t n_tcp, char *buf,
                       size_t buflen) {
    char inner[CAP_FILTER_MAX / 3];
    if (buf == NULL || buflen == 0 || (n_udp == 0 && n_tcp == 0)) return CTX_EINVAL;
    if (n_udp == 0) return CTX_EINVAL; /* UDP ports are required; TCP optional */
    if (filter_inner(udp_ports, n_udp, tcp_ports, n_tcp, inner, sizeof inner) < 0) return CTX_EINVAL;
    int w = snprintf(buf, buflen, "(%s) or (vlan and ((%s) or (vlan and (%s))))", inner, inner, inner);
    if (w < 0 || (size_t)w >= buflen) return CTX_EINVAL;
    return w;
}

int ctx_capture_new(const struct ctx_capture_cfg *cfg, ctx_capture_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (cfg == NULL || cfg->patterns == NULL || cfg->on_packet == NULL) {
        snprintf(err, errlen, "capture: patterns and a packet callback are required");
        return CTX_EINVAL;
    }
    ctx_capture_t *c = calloc(1, sizeof(*c));
    if (c == NULL) return CTX_ENOMEM;
    c->cfg = *cfg;
    c->cfg.udp_ports = NULL; /* borrowed only during this call */
    c->cfg.tcp_ports = NULL;
    if (c->cfg.block_timeout_ms <= 0) c->cfg.block_timeout_ms = 10;
    if (c->cfg.idle_ms <= 0) c->cfg.idle_ms = 100;
    c->nl_fd = c->wake_fd = -1;
    if (ctx_capture_filter(cfg->udp_ports, cfg->n_udp_ports, cfg->tcp_ports, cfg->n_tcp_ports, c->filter,
                           sizeof c->filter) < 0) {
        snprintf(err, errlen, "capture: cannot build a filter for %zu UDP and %zu TCP ports (too many?)",
                 cfg->n_udp_ports, cfg->n_tcp_ports);
        free(c);
        return CTX_EINVAL;
    }
    /* compile once against a dead handle: a filter error is a configuration error */
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, cfg->snaplen > 0 ? cfg->snaplen : 65535);
    struct bpf_program prog;
    if (dead == NULL || pcap_compile(dead, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "capture: filter does not compile: %s", dead ? pcap_geterr(dead) : "out of memory");
        if (dead) pcap_close(dead);
        free(c);
        return CTX_EINVAL;
    }
    pcap_freecode(&prog);
    pcap_close(dead);
    if ((c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "capture: eventfd: %s", strerror(errno));
        free(c);
        return CTX_EIO;
    }
    *out = c;
    return 0;
}

static struct capif *find_if(ctx_capture_t *c, const char *name) {
    for (size_t i = 0; i < c->n_ifs; ++i)
        if (!strcmp(c->ifs[i].name, name)) return &c->ifs[i];
    return NULL;
}

static void account_drops(ctx_capture_t *c, struct capif *ci) {
    struct pcap_stat ps;
    if (pcap_stats(ci->p, &ps) == 0 && ps.ps_drop > ci->drops_seen) {
        st_add(&c->st.kernel_drops, ps.ps_drop - ci->drops_seen);
        ci->drops_seen = ps.ps_drop;
    }
}

/* sets the options of a created handle and activates it; returns NULL-or-error text */
static const char *activate(ctx_capture_t *c, pcap_t *p, char *ebuf, size_t elen) {
    struct bpf_program prog;
    if (pcap_set_snaplen(p, c->cfg.snaplen) || pcap_set_promisc(p, 0) ||
        pcap_set_buffer_size(p, (int)c->cfg.ring_bytes) || pcap_set_timeout(p, c->cfg.block_timeout_ms))
        return pcap_geterr(p);
    int rc = pcap_activate(p);
    if (rc < 0) {
        snprintf(ebuf, elen, "%s", rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
        return ebuf;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        snprintf(ebuf, elen, "not an Ethernet interface (link type %d)", pcap_datalink(p));
        return ebuf;
    }
    if (pcap_setdirection(p, PCAP_D_IN) != 0) return pcap_geterr(p);
    if (pcap_compile(p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) return pcap_geterr(p);
    rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) return pcap_geterr(p);
    if (pcap_setnonblock(p, 1, ebuf) != 0) return ebuf;
    return NULL;
}

/* joins the interface's fanout group: flows are hashed to one member, and IP
 * fragments are reassembled by the kernel's defrag step first (so all of a
 * datagram goes to one member) */
static const char *join_fanout(ctx_capture_t *c, pcap_t *p, const char *name, char *ebuf, size_t elen) {
    unsigned idx = if_nametoindex(name);
    int arg = (int)((((unsigned)idx ^ c->cfg.fanout_salt) & 0xffffu) |
                    ((unsigned)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
    if (idx == 0 || setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
        snprintf(ebuf, elen, "cannot join the PACKET_FANOUT group: %s", strerror(errno));
        return ebuf;
    }
    return NULL;
}

static void discard_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
    (void)user;
    (void)h;
    (void)bytes;
}

static void attach(ctx_capture_t *c, const char *name) {
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    if (find_if(c, name) != NULL || ctx_ifglob_match(c->cfg.patterns, name) < 0) return;
    if (c->n_ifs >= CAP_MAX_IFACES) {
        cap_log(c, 2, "capture: cannot attach %s: already %d interfaces", name, CAP_MAX_IFACES);
        return;
    }
    if (c->n_ifs == c->cap_ifs) {
        size_t ncap = c->cap_ifs ? 2 * c->cap_ifs : 16;
        struct capif *n = realloc(c->ifs, ncap * sizeof(*n));
        if (n == NULL) return;
        c->ifs = n;
        c->cap_ifs = ncap;
    }
    pcap_t *p = pcap_create(name, ebuf);
    const char *why = p == NULL ? ebuf : activate(c, p, ebuf, sizeof ebuf);
    if (why == NULL && c->cfg.fanout) {
        why = join_fanout(c, p, name, ebuf, sizeof ebuf);
        /* what reached this socket before it joined the group also reached the group:
         * discard it, so that no packet is seen twice */
        while (why == NULL && pcap_dispatch(p, -1, discard_cb, NULL) > 0) {
        }
    }
    if (why != NULL) {
        cap_log(c, 2, "capture: cannot attach interface %s: %s", name, why);
        st_add(&c->st.attach_errors, 1);
        if (p) pcap_close(p);
        return;
    }
    struct capif *ci = &c->ifs[c->n_ifs++];
    memset(ci, 0, sizeof(*ci));
    snprintf(ci->name, sizeof ci->name, "%s", name);
    ci->p = p;
    ci->fd = pcap_get_selectable_fd(p);
    st_add(&c->st.attach_events, 1);
    __atomic_store_n(&c->st.attached, (unsigned)c->n_ifs, __ATOMIC_RELAXED);
    cap_log(c, 0, "capture: attached interface %s", name);
}

static void detach_at(ctx_capture_t *c, size_t i, const char *why) {
    struct capif *ci = &c->ifs[i];
    account_drops(c, ci);
    cap_log(c, 0, "capture: detached interface %s (%s)", ci->name, why);
    pcap_close(ci->p);
    c->ifs[i] = c->ifs[--c->n_ifs];
    st_add(&c->st.detach_events, 1);
    __atomic_store_n(&c->st.attached, (unsigned)c->n_ifs, __ATOMIC_RELAXED);
}

static void detach(ctx_capture_t *c, const char *name, const char *why) {
    for (size_t i = 0; i < c->n_ifs; ++i)
        if (!strcmp(c->ifs[i].name, name)) {
            detach_at(c, i, why);
            return;
        }
}

static void attach_present(ctx_capture_t *c) {
    struct if_nameindex *ifs = if_nameindex();
    if (ifs == NULL) {
        cap_log(c, 2, "capture: cannot list interfaces: %s", strerror(errno));
        return;
    }
    for (struct if_nameindex *i = ifs; i->if_index != 0; ++i) {
        char path[64];
        unsigned flags = 0;
        FILE *f;
        snprintf(path, sizeof path, "/sys/class/net/%s/flags", i->if_name);
        if ((f = fopen(path, "r")) != NULL) {
            if (fscanf(f, "%x", &flags) != 1) flags = 0;
            fclose(f);
        }
        if (flags & IFF_UP) attach(c, i->if_name);
    }
    if_freenameindex(ifs);
}

static int open_netlink(ctx_capture_t *c, char *err, size_t errlen) {
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
    c->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (c->nl_fd < 0 || bind(c->nl_fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "capture: cannot open the rtnetlink socket for link notifications: %s",
                 strerror(errno));
        if (c->nl_fd >= 0) close(c->nl_fd);
        c->nl_fd = -1;
        return CTX_EIO;
    }
    int sz = 1 << 20;
    setsockopt(c->nl_fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    return 0;
}

static void on_link_msg(ctx_capture_t *c, struct nlmsghdr *nh) {
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
    const char *name = NULL;
    if (len < 0) return;
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && RTA_PAYLOAD(a) <= IF_NAMESIZE) {
            name = RTA_DATA(a);
            if (memchr(name, '\0', RTA_PAYLOAD(a)) == NULL) name = NULL;
        }
    }
    if (name == NULL) return;
    if (nh->nlmsg_type == RTM_DELLINK)
        detach(c, name, "interface removed");
    else if (nh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP))
        attach(c, name);
    else if (nh->nlmsg_type == RTM_NEWLINK && find_if(c, name) != NULL)
        detach(c, name, "interface down");
}

static void read_netlink(ctx_capture_t *c) {
    char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    for (;;) {
        ssize_t n = recv(c->nl_fd, buf, sizeof buf, 0);
        if (n < 0 && errno == ENOBUFS) { /* notifications lost: resynchronise from the interface list */
            cap_log(c, 1, "capture: link notifications overflowed; rescanning interfaces");
            attach_present(c);
            continue;
        }
        if (n <= 0) return;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n))
            if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK) on_link_msg(c, nh);
    }
}

static void pcap_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
    void **ctx = (void **)user;
    ctx_capture_t *c = ctx[0];
    const struct capif *ci = ctx[1];
    st_add(&c->st.received, 1);
    c->cfg.on_packet(c->cfg.ud, ci->name, &h->ts, bytes, h->caplen, h->len);
}

/* reads what is ready on interface i; returns 0, or -1 if it was detached */
static int drain_if(ctx_capture_t *c, size_t i) {
    struct capif *ci = &c->ifs[i];
    void *ctx[2] = {c, ci};
    int n = pcap_dispatch(ci->p, 256, pcap_cb, (u_char *)ctx);
    if (n == PCAP_ERROR) {
        char why[PCAP_ERRBUF_SIZE + 16];
        snprintf(why, sizeof why, "read error: %s", pcap_geterr(ci->p));
        detach_at(c, i, why);
        return -1;
    }
    return 0;
}

static void tick(ctx_capture_t *c, uint64_t now) {
    for (size_t i = 0; i < c->n_ifs; ++i) account_drops(c, &c->ifs[i]);
    if (c->cfg.on_tick) c->cfg.on_tick(c->cfg.ud, now);
}

int ctx_capture_run(ctx_capture_t *c, int (*should_stop)(void), char *err, size_t errlen) {
    struct pollfd *pfd = NULL;
    size_t pfd_cap = 0;
    int rc = open_netlink(c, err, errlen);
    if (rc != 0) return rc;
    attach_present(c);
    uint64_t next_tick = now_ms() + (uint64_t)c->cfg.idle_ms;
    while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED) && (should_stop == NULL || !should_stop())) {
        size_t n = c->n_ifs + 2;
        if (n > pfd_cap) {
            struct pollfd *np = realloc(pfd, n * sizeof(*np));
            if (np == NULL) break;
            pfd = np;
            pfd_cap = n;
        }
        pfd[0] = (struct pollfd){.fd = c->wake_fd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = c->nl_fd, .events = POLLIN};
        for (size_t i = 0; i < c->n_ifs; ++i) pfd[i + 2] = (struct pollfd){.fd = c->ifs[i].fd, .events = POLLIN};
        size_t n_polled = c->n_ifs;
        int r = poll(pfd, n, c->cfg.idle_ms);
        if (r > 0 && (pfd[1].revents & POLLIN)) read_netlink(c);
        /* drain interfaces (reverse order: a detach moves the last entry into slot i) */
        int drained = 0;
        for (size_t k = n_polled; r > 0 && k-- > 0;)
            if (k < c->n_ifs && (pfd[k + 2].revents & (POLLIN | POLLERR | POLLHUP))) {
                drain_if(c, k);
                drained = 1;
            }
        if (drained && c->cfg.on_round) c->cfg.on_round(c->cfg.ud);
        uint64_t now = now_ms();
        if (now >= next_tick) {
            tick(c, now);
            next_tick = now + (uint64_t)c->cfg.idle_ms;
        }
    }
    free(pfd);
    return 0;
}

void ctx_capture_stop(ctx_capture_t *c) {
    uint64_t one = 1;
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
    if (write(c->wake_fd, &one, sizeof one) < 0) { /* the flag is enough; poll wakes within idle_ms */
    }
}

void ctx_capture_get_stats(ctx_capture_t *c, struct ctx_capture_stats *st) {
    st->received = __atomic_load_n(&c->st.received, __ATOMIC_RELAXED);
    st->kernel_drops = __atomic_load_n(&c->st.kernel_drops, __ATOMIC_RELAXED);
    st->attach_events = __atomic_load_n(&c->st.attach_events, __ATOMIC_RELAXED);
    st->detach_events = __atomic_load_n(&c->st.detach_events, __ATOMIC_RELAXED);
    st->attach_errors = __atomic_load_n(&c->st.attach_errors, __ATOMIC_RELAXED);
    st->attached = __atomic_load_n(&c->st.attached, __ATOMIC_RELAXED);
}

void ctx_capture_free(ctx_capture_t *c) {
    if (c == NULL) return;
    for (size_t i = 0; i < c->n_ifs; ++i) pcap_close(c->ifs[i].p);
    free(c->ifs);
    if (c->nl_fd >= 0) close(c->nl_fd);
    if (c->wake_fd >= 0) close(c->wake_fd);
    free(c);
}
