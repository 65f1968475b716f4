/* capture.c: one capture socket and ring for all interfaces, driven by poll(),
 * plus rtnetlink link notifications to attach and detach interfaces at run time.
 *
 * The attached interfaces are a table sorted by interface index: binary search per
 * frame (for the vNIC name), and the same sorted indexes are what the kernel
 * filter's search tree is built from (capture_filter.c) each time the table
 * changes. Interfaces are identified by index, not name: a vNIC deleted and created
 * again under the same name is a new interface (a new index), and frames of the
 * old one still in the ring are dropped as stale, not attributed to the new one.
 *
 * Concurrency: see capture.h. Counters shared with other threads are updated
 * with relaxed atomics; the interface table and the ring belong to the capture thread.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture_ring.h"
#include "clock.h"
#include "ctxlog_common.h"

#define CAP_MAX_IFACES 2048   /* the kernel filter's length bound allows about this many */
#define CAP_DRAIN_BLOCKS 64   /* ring blocks read per poll round before looking at netlink and stop */

struct capif {
    unsigned ifindex;
    char name[IF_NAMESIZE];
    uint8_t seen; /* found up in the current rescan */
};

struct ctx_capture {
    struct ctx_capture_cfg cfg;
    struct sock_filter *port;     /* compiled port filter */
    size_t port_len;
    struct sock_filter *prog;     /* CTX_CAPFILTER_MAX_INSNS: the program last built */
    uint32_t *idx;                /* CAP_MAX_IFACES: sorted indexes, input of the builder */
    struct capif *ifs;            /* CAP_MAX_IFACES, sorted by ifindex */
    size_t n_ifs;
    struct ctx_ring *ring;
    int nl_fd;
    int wake_fd;
    volatile int stop;
    uint64_t round_ns; /* when the current round of frames began (capture thread) */
    struct ctx_capture_stats st;  /* atomics */
};


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

int ctx_capture_new(const struct ctx_capture_cfg *cfg, ctx_capture_t **out, char *err, size_t errlen) {
    char expr[4096], perr[CTX_ERRLEN] = "";
    *out = NULL;
    if (cfg == NULL || cfg->patterns == NULL || cfg->on_packet == NULL) {
        snprintf(err, errlen, "capture: patterns and a packet callback are required");
        return CTX_EINVAL;
    }
    if (ctx_capture_filter(cfg->udp_ports, cfg->n_udp_ports, cfg->tcp_ports, cfg->n_tcp_ports, expr, sizeof expr) < 0) {
        snprintf(err, errlen, "capture: cannot build a filter for %zu UDP and %zu TCP ports (too many?)",
                 cfg->n_udp_ports, cfg->n_tcp_ports);
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
    int rc = ctx_capfilter_compile(expr, cfg->snaplen, &c->port, &c->port_len, perr, sizeof perr);
    if (rc == CTX_EINVAL) snprintf(err, errlen, "capture: filter does not compile: %s", perr);
    if (rc == 0 && (c->prog = calloc(CTX_CAPFILTER_MAX_INSNS, sizeof *c->prog)) == NULL) rc = CTX_ENOMEM;
    if (rc == 0 && (c->idx = calloc(CAP_MAX_IFACES, sizeof *c->idx)) == NULL) rc = CTX_ENOMEM;
    if (rc == 0 && (c->ifs = calloc(CAP_MAX_IFACES, sizeof *c->ifs)) == NULL) rc = CTX_ENOMEM;
    if (rc == 0 && (c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "capture: eventfd: %s", strerror(errno));
        rc = CTX_EIO;
    }
    if (rc != 0) {
        ctx_capture_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ctx_capture_open(ctx_capture_t *c, int *fanout_group, char *err, size_t errlen) {
    char rerr[CTX_ERRLEN];
    struct ctx_ring_cfg rc = {c->cfg.ring_bytes, c->cfg.snaplen, c->cfg.block_timeout_ms};
    if (c->ring != NULL) return 0;
    int r = ctx_ring_open(&rc, &c->ring, rerr, sizeof rerr);
    if (r != 0) {
        snprintf(err, errlen, "capture: cannot open the capture socket: %s", rerr);
        return r;
    }
    if (c->cfg.fanout && fanout_group != NULL && ctx_ring_join_fanout(c->ring, fanout_group) != 0) {
        snprintf(err, errlen, "capture: cannot join the PACKET_FANOUT group%s: %s",
                 *fanout_group < 0 ? " (new, id chosen by the kernel)" : "", strerror(errno));
        ctx_ring_close(c->ring);
        c->ring = NULL;
        return CTX_EIO;
    }
    return 0;
}

/* index of the entry with ifindex, or of where it would go (*found 0) */
static size_t if_pos(const ctx_capture_t *c, unsigned ifindex, int *found) {
    size_t lo = 0, hi = c->n_ifs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ifs[mid].ifindex < ifindex) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < c->n_ifs && c->ifs[lo].ifindex == ifindex;
    return lo;
}

static struct capif *find_if(ctx_capture_t *c, unsigned ifindex) {
    int found;
    size_t i = if_pos(c, ifindex, &found);
    return found ? &c->ifs[i] : NULL;
}

/* builds the filter for the current table and attaches it; 0, or -1 with why set */
static int apply_filter(ctx_capture_t *c, char *why, size_t whylen) {
    for (size_t i = 0; i < c->n_ifs; ++i) c->idx[i] = c->ifs[i].ifindex;
    int n = ctx_capfilter_build(c->idx, c->n_ifs, c->port, c->port_len, c->prog, CTX_CAPFILTER_MAX_INSNS);
    if (n < 0) {
        snprintf(why, whylen, "the kernel filter for %zu interfaces would exceed %d instructions", c->n_ifs,
                 CTX_CAPFILTER_MAX_INSNS);
        return -1;
    }
    if (ctx_ring_set_filter(c->ring, c->prog, (size_t)n) != 0) {
        snprintf(why, whylen, "SO_ATTACH_FILTER: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void remove_at(ctx_capture_t *c, size_t i) {
    memmove(&c->ifs[i], &c->ifs[i + 1], (c->n_ifs - i - 1) * sizeof *c->ifs);
    c->n_ifs--;
}

static void attach(ctx_capture_t *c, unsigned ifindex, const char *name, unsigned type) {
    char why[CTX_ERRLEN];
    int found;
    size_t pos = if_pos(c, ifindex, &found);
    if (found || ifindex == 0 || ctx_ifglob_match(c->cfg.patterns, name) < 0) return;
    if (type != ARPHRD_ETHER) snprintf(why, sizeof why, "not an Ethernet interface (link type %u)", type);
    else if (c->n_ifs >= CAP_MAX_IFACES) snprintf(why, sizeof why, "already %d interfaces", CAP_MAX_IFACES);
    else {
        memmove(&c->ifs[pos + 1], &c->ifs[pos], (c->n_ifs - pos) * sizeof *c->ifs);
        c->ifs[pos] = (struct capif){.ifindex = ifindex};
        snprintf(c->ifs[pos].name, sizeof c->ifs[pos].name, "%s", name);
        c->n_ifs++;
        if (apply_filter(c, why, sizeof why) == 0) {
            st_add(&c->st.attach_events, 1);
            __atomic_store_n(&c->st.attached, (unsigned)c->n_ifs, __ATOMIC_RELAXED);
            cap_log(c, 0, "capture: attached interface %s", name);
            return;
        }
        remove_at(c, pos);
    }
    cap_log(c, 2, "capture: cannot attach interface %s: %s", name, why);
    st_add(&c->st.attach_errors, 1);
}

static void detach_at(ctx_capture_t *c, size_t i, const char *reason) {
    char why[CTX_ERRLEN];
    cap_log(c, 0, "capture: detached interface %s (%s)", c->ifs[i].name, reason);
    if (c->cfg.on_detach) c->cfg.on_detach(c->cfg.ud, c->ifs[i].name, c->ifs[i].ifindex);
    remove_at(c, i);
    if (apply_filter(c, why, sizeof why) != 0) cap_log(c, 2, "capture: cannot update the kernel filter: %s", why);
    st_add(&c->st.detach_events, 1);
    __atomic_store_n(&c->st.attached, (unsigned)c->n_ifs, __ATOMIC_RELAXED);
}

static void detach(ctx_capture_t *c, unsigned ifindex, const char *reason) {
    int found;
    size_t i = if_pos(c, ifindex, &found);
    if (found) detach_at(c, i, reason);
}

static unsigned sysfs_hex(const char *ifname, const char *what) {
    char path[64];
    unsigned v = 0;
    FILE *f;
    snprintf(path, sizeof path, "/sys/class/net/%s/%s", ifname, what);
    if ((f = fopen(path, "r")) != NULL) {
        if (fscanf(f, "%i", (int *)&v) != 1) v = 0;
        fclose(f);
    }
    return v;
}

/* attaches the matching interfaces that are up; detaches attached ones that are
 * not (after lost notifications) */
static void attach_present(ctx_capture_t *c) {
    struct if_nameindex *ifs = if_nameindex();
    if (ifs == NULL) {
        cap_log(c, 2, "capture: cannot list interfaces: %s", strerror(errno));
        return;
    }
    for (size_t i = 0; i < c->n_ifs; ++i) c->ifs[i].seen = 0;
    for (struct if_nameindex *i = ifs; i->if_index != 0; ++i) {
        if (!(sysfs_hex(i->if_name, "flags") & IFF_UP)) continue;
        struct capif *ci = find_if(c, i->if_index);
        if (ci == NULL) {
            attach(c, i->if_index, i->if_name, sysfs_hex(i->if_name, "type"));
            ci = find_if(c, i->if_index); /* attach() moved the entries */
        } else if (strcmp(ci->name, i->if_name) != 0) { /* renamed while notifications were lost */
            if (ctx_ifglob_match(c->cfg.patterns, i->if_name) >= 0) snprintf(ci->name, sizeof ci->name, "%s", i->if_name);
            else ci = NULL; /* no longer matches: detached below */
        }
        if (ci != NULL) ci->seen = 1;
    }
    if_freenameindex(ifs);
    for (size_t k = c->n_ifs; k-- > 0;)
        if (!c->ifs[k].seen) detach_at(c, k, "gone or down");
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

static const char *link_name(struct nlmsghdr *nh, struct ifinfomsg *ifi) {
    int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
    const char *name = NULL;
    if (len < 0) return NULL;
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && RTA_PAYLOAD(a) <= IF_NAMESIZE) {
            name = RTA_DATA(a);
            if (memchr(name, '\0', RTA_PAYLOAD(a)) == NULL) name = NULL;
        }
    }
    return name;
}

static void on_link_msg(ctx_capture_t *c, struct nlmsghdr *nh) {
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    const char *name = link_name(nh, ifi);
    unsigned idx = (unsigned)ifi->ifi_index;
    if (nh->nlmsg_type == RTM_DELLINK) {
        detach(c, idx, "interface removed");
        return;
    }
    if (name == NULL) return;
    struct capif *ci = find_if(c, idx);
    if (ci != NULL && strcmp(ci->name, name) != 0) { /* renamed */
        if (ctx_ifglob_match(c->cfg.patterns, name) >= 0) {
            cap_log(c, 0, "capture: interface %s renamed to %s", ci->name, name);
            snprintf(ci->name, sizeof ci->name, "%s", name);
        } else {
            detach(c, idx, "renamed to a name the patterns do not match");
            ci = NULL;
        }
    }
    if ((ifi->ifi_flags & IFF_UP) && ci == NULL) attach(c, idx, name, ifi->ifi_type);
    else if (!(ifi->ifi_flags & IFF_UP) && ci != NULL) detach(c, idx, "interface down");
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

static void on_frame(void *ud, unsigned ifindex, const struct timeval *ts, const uint8_t *frame, size_t caplen,
                     size_t wirelen) {
    ctx_capture_t *c = ud;
    const struct capif *ci = find_if(c, ifindex);
    if (ci == NULL) {
        st_add(&c->st.stale, 1);
        return;
    }
    st_add(&c->st.received, 1);
    c->cfg.on_packet(c->cfg.ud, ci->name, ifindex, ts, frame, caplen, wirelen);
}

static void tick(ctx_capture_t *c, uint64_t now) {
    st_add(&c->st.kernel_drops, ctx_ring_take_drops(c->ring));
    if (c->cfg.on_tick) c->cfg.on_tick(c->cfg.ud, now);
}

int ctx_capture_run(ctx_capture_t *c, int (*should_stop)(void), char *err, size_t errlen) {
    int rc = c->ring == NULL ? ctx_capture_open(c, NULL, err, errlen) : 0;
    if (rc == 0) rc = open_netlink(c, err, errlen);
    if (rc != 0) return rc;
    attach_present(c);
    uint64_t next_tick = ctx_clock_ms() + (uint64_t)c->cfg.idle_ms;
    while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED) && (should_stop == NULL || !should_stop())) {
        struct pollfd pfd[3] = {{.fd = c->wake_fd, .events = POLLIN},
                                {.fd = c->nl_fd, .events = POLLIN},
                                {.fd = ctx_ring_fd(c->ring), .events = POLLIN}};
        int r = poll(pfd, 3, c->cfg.idle_ms);
        if (r > 0 && (pfd[1].revents & POLLIN)) read_netlink(c);
        /* a ready block is seen by its status word; poll() only saves the spinning */
        c->round_ns = ctx_clock_ns();
        if (ctx_ring_drain(c->ring, CAP_DRAIN_BLOCKS, on_frame, c) > 0 && c->cfg.on_round) c->cfg.on_round(c->cfg.ud);
        uint64_t now = ctx_clock_ms();
        if (now >= next_tick) {
            tick(c, now);
            next_tick = now + (uint64_t)c->cfg.idle_ms;
        }
    }
    return 0;
}

uint64_t ctx_capture_round_ns(const ctx_capture_t *c) {
    return c != NULL ? c->round_ns : 0;
}

void ctx_capture_stop(ctx_capture_t *c) {
    uint64_t one = 1;
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
    if (write(c->wake_fd, &one, sizeof one) < 0) { /* the flag is enough; poll wakes within idle_ms */
    }
}

void ctx_capture_get_stats(ctx_capture_t *c, struct ctx_capture_stats *st) {
    st->received = __atomic_load_n(&c->st.received, __ATOMIC_RELAXED);
    st->stale = __atomic_load_n(&c->st.stale, __ATOMIC_RELAXED);
    st->kernel_drops = __atomic_load_n(&c->st.kernel_drops, __ATOMIC_RELAXED);
    st->attach_events = __atomic_load_n(&c->st.attach_events, __ATOMIC_RELAXED);
    st->detach_events = __atomic_load_n(&c->st.detach_events, __ATOMIC_RELAXED);
    st->attach_errors = __atomic_load_n(&c->st.attach_errors, __ATOMIC_RELAXED);
    st->attached = __atomic_load_n(&c->st.attached, __ATOMIC_RELAXED);
}

void ctx_capture_free(ctx_capture_t *c) {
    if (c == NULL) return;
    ctx_ring_close(c->ring);
    free(c->port);
    free(c->prog);
    free(c->idx);
    free(c->ifs);
    if (c->nl_fd >= 0) close(c->nl_fd);
    if (c->wake_fd >= 0) close(c->wake_fd);
    free(c);
}
