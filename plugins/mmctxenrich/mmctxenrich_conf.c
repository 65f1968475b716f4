/* mmctxenrich_conf.c: parameter values -> validated settings, files and objects.
 *
 * Every error is one parser_errmsg() line "mmctxenrich: parameter '<name>': <what>",
 * so rsyslogd -N1 names the config file and line. The units of common/ validate
 * their own keys (their messages start with the key, which is the parameter name);
 * param_error() turns "cm.url: ..." into that form.
 *
 * Concurrency: everything here runs on rsyslog's config-load thread, except
 * mmx_reload (the HUP thread) and mmx_start (the activation thread); see
 * mmctxenrich.h for what they may touch.
 */
#include "config.h"
#include "rsyslog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include "conf.h"
#include "errmsg.h"
#include "parserif.h"

#include "cgstat.h"
#include "cnfutil.h"
#include "mmctxenrich.h"
#include "profsrc.h"
#include "secretfile.h"

void mmx_set_defaults(mmx_inst *inst) {
    inst->sample_interval = 5;
    inst->start_jitter_ms = 10000;
    cmfetch_conf_defaults(&inst->fetch_conf);
    cmcache_conf_defaults(&inst->cache_conf);
    pthread_mutex_init(&inst->log_lock, NULL);
}

/* err is "<key>: <rest>" from a common/ unit: report it as parameter <key> */
static void param_error(const char *err) {
    const char *sep = strstr(err, ": ");
    size_t klen = sep ? (size_t)(sep - err) : 0;
    if (klen > 0 && klen < 40 && memchr(err, ' ', klen) == NULL && memchr(err, '\'', klen) == NULL)
        parser_errmsg("mmctxenrich: parameter '%.*s': %s", (int)klen, err, sep + 2);
    else
        parser_errmsg("mmctxenrich: %s", err);
}

/* a file parameter must name a readable file */
static rsRetVal check_readable(const char *param, const char *path) {
    if (access(path, R_OK) != 0) {
        parser_errmsg("mmctxenrich: parameter '%s': cannot read '%s': %s", param, path, strerror(errno));
        return RS_RET_NO_FILE_ACCESS;
    }
    return RS_RET_OK;
}

static rsRetVal set_string(char **dst, struct cnfparamvals *v) {
    free(*dst);
    return (*dst = cnf_str(v)) == NULL ? RS_RET_OUT_OF_MEMORY : RS_RET_OK;
}

/* a file holding a secret: refused or warned about by its owner and mode (secretfile.h) */
static rsRetVal check_secret(const char *param, const char *path) {
    struct stat st;
    char why[160];
    if (stat(path, &st) != 0) return RS_RET_OK; /* check_readable said why */
    int verdict = ctx_secret_check(&st, geteuid(), why, sizeof why);
    if (verdict == CTX_SECRET_REFUSE) {
        parser_errmsg("mmctxenrich: parameter '%s': '%s' cannot hold a secret: %s", param, path, why);
        return RS_RET_PARAM_ERROR;
    }
    if (verdict == CTX_SECRET_WARN) cnf_warning("mmctxenrich: warning: parameter '%s': '%s' is %s", param, path, why);
    return RS_RET_OK;
}

static rsRetVal set_file(char **dst, const char *param, struct cnfparamvals *v) {
    DEFiRet;
    CHKiRet(set_string(dst, v));
    CHKiRet(check_readable(param, *dst));
    if (!strcmp(param, "cm.tokenFile")) CHKiRet(check_secret(param, *dst));
finalize_it:
    RETiRet;
}

/* cgroup / pidfile templates are checked as the sampler will use them */
static rsRetVal set_template(char **dst, const char *param, const char *what, struct cnfparamvals *v) {
    char err[CTX_ERRLEN];
    DEFiRet;
    CHKiRet(set_string(dst, v));
    if (cg_template_check(*dst, what, "t", err, sizeof err) != 0) {
        parser_errmsg("mmctxenrich: parameter '%s': %s", param, strncmp(err, "t: ", 3) ? err : err + 3);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

static rsRetVal set_rate(mmx_inst *inst, struct cnfparamvals *v) {
    char *end = NULL;
    DEFiRet;
    CHKiRet(set_string(&inst->rate_text, v));
    errno = 0;
    double d = strtod(inst->rate_text, &end);
    if (errno != 0 || end == inst->rate_text || *end != '\0') {
        parser_errmsg("mmctxenrich: parameter 'cm.ratePerSec': expected a number of requests per second, got '%s'",
                      inst->rate_text);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    inst->fetch_conf.rate_per_sec = d;
finalize_it:
    RETiRet;
}

static rsRetVal set_sample_interval(mmx_inst *inst, struct cnfparamvals *v) {
    if (v->val.d.n < 1 || v->val.d.n > 3600) {
        parser_errmsg("mmctxenrich: parameter 'sample.interval': expected 1..3600 seconds, got %lld",
                      (long long)v->val.d.n);
        return RS_RET_PARAM_ERROR;
    }
    inst->sample_interval = (unsigned)v->val.d.n;
    return RS_RET_OK;
}

static rsRetVal set_host_ttl(mmx_inst *inst, struct cnfparamvals *v) {
    if (v->val.d.n < 1000) {
        parser_errmsg("mmctxenrich: parameter 'cache.hostTTL': must be >= 1000 (got %lld)", (long long)v->val.d.n);
        return RS_RET_PARAM_ERROR;
    }
    inst->host_ttl_ms = v->val.d.n;
    return RS_RET_OK;
}

/* cache.* integers (ms, counts, percent): range checks are cmcache_conf_check's */
static int set_cache_param(cmcache_conf_t *c, const char *name, int64_t n) {
    static const struct { const char *name; size_t off; int is_size; } T[] = {
        {"cache.maxEntries", offsetof(cmcache_conf_t, max_entries), 1},
        {"cache.queueMax", offsetof(cmcache_conf_t, queue_max), 1},
        {"cache.staticTTL", offsetof(cmcache_conf_t, static_ttl_ms), 0},
        {"cache.dynamicTTL", offsetof(cmcache_conf_t, dynamic_ttl_ms), 0},
        {"cache.unknownTTL", offsetof(cmcache_conf_t, unknown_ttl_ms), 0},
        {"cache.backoffMin", offsetof(cmcache_conf_t, backoff_min_ms), 0},
        {"cache.backoffMax", offsetof(cmcache_conf_t, backoff_max_ms), 0},
        {"cache.idleExpire", offsetof(cmcache_conf_t, idle_expire_ms), 0},
        {"cache.maxStale", offsetof(cmcache_conf_t, max_stale_ms), 0},
        {"cache.pendingTimeout", offsetof(cmcache_conf_t, pending_timeout_ms), 0},
    };
    if (!strcmp(name, "cache.jitter")) {
        c->jitter_pct = n > 1000 ? 1000 : (int)n;
        return 1;
    }
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        if (strcmp(name, T[i].name) != 0) continue;
        if (T[i].is_size)
            *(size_t *)((char *)c + T[i].off) = (size_t)n;
        else
            *(int64_t *)((char *)c + T[i].off) = n;
        return 1;
    }
    return 0;
}

/* cm.* integers: range checks are cmfetch_conf_check's */
static int set_cm_int(cmfetch_conf_t *f, const char *name, int64_t n) {
    if (!strcmp(name, "cm.tlsVerify"))
        f->tls_verify = (int)n;
    else if (!strcmp(name, "cm.allowInsecure"))
        f->allow_insecure = (int)n;
    else if (!strcmp(name, "cm.connectTimeout"))
        f->connect_timeout_ms = (long)(n > 100000000 ? 100000000 : n);
    else if (!strcmp(name, "cm.timeout"))
        f->timeout_ms = (long)(n > 100000000 ? 100000000 : n);
    else if (!strcmp(name, "cm.maxResponseBytes"))
        f->max_body = (size_t)n;
    else if (!strcmp(name, "cm.maxInFlight"))
        f->max_inflight = (int)(n > 100000000 ? 100000000 : n);
    else if (!strcmp(name, "cm.burst"))
        f->burst = (int)(n > 100000000 ? 100000000 : n);
    else if (!strcmp(name, "cm.logInterval"))
        f->log_interval_ms = n;
    else
        return 0;
    return 1;
}

/* the string parameters kept as they are: name -> field */
static char **string_field(mmx_inst *inst, const char *name) {
    if (!strcmp(name, "name")) return &inst->name;
    if (!strcmp(name, "host.procRoot")) return &inst->proc_root;
    if (!strcmp(name, "host.cgroupRoot")) return &inst->cgroup_root;
    if (!strcmp(name, "cm.url")) return &inst->url;
    if (!strcmp(name, "cm.statsUrl")) return &inst->stats_url;
    if (!strcmp(name, "cm.bulkUrl")) return &inst->bulk_url;
    if (!strcmp(name, "cm.hostUrl")) return &inst->host_url;
    if (!strcmp(name, "cm.hostName")) return &inst->host_name;
    if (!strcmp(name, "cm.user")) return &inst->user;
    if (!strcmp(name, "cm.password")) return &inst->password;
    if (!strcmp(name, "profiles.libvirt")) return &inst->libvirt_uri;
    if (!strcmp(name, "cm.hostIdUrl")) return &inst->hostid_url;
    if (!strcmp(name, "cm.auth")) return &inst->auth_type;
    if (!strcmp(name, "cm.authUrl")) return &inst->auth_url;
    if (!strcmp(name, "cm.userDomain")) return &inst->user_domain;
    if (!strcmp(name, "cm.project")) return &inst->project;
    if (!strcmp(name, "cm.projectDomain")) return &inst->project_domain;
    if (!strcmp(name, "cm.appCredId")) return &inst->appcred_id;
    return NULL;
}

/* file parameters (readable at config load): name -> field */
static char **file_field(mmx_inst *inst, const char *name) {
    if (!strcmp(name, "policy")) return &inst->policy_path;
    if (!strcmp(name, "profiles")) return &inst->profiles_path;
    if (!strcmp(name, "cm.mapping")) return &inst->mapping_path;
    if (!strcmp(name, "cm.tokenFile")) return &inst->token_file;
    if (!strcmp(name, "cm.caFile")) return &inst->ca_file;
    if (!strcmp(name, "cm.passwordFile")) return &inst->password_file;
    if (!strcmp(name, "cm.appCredSecretFile")) return &inst->appcred_secret_file;
    return NULL;
}

int mmx_set_param(mmx_inst *inst, const char *name, struct cnfparamvals *v) {
    char **field;
    DEFiRet;
    if ((field = string_field(inst, name)) != NULL) {
        CHKiRet(set_string(field, v));
    } else if ((field = file_field(inst, name)) != NULL) {
        CHKiRet(set_file(field, name, v));
    } else if (!strcmp(name, "sample.interval")) {
        CHKiRet(set_sample_interval(inst, v));
    } else if (!strcmp(name, "host.diskPaths")) {
        cnf_list_free(inst->disk_paths);
        CHKmalloc(inst->disk_paths = cnf_list(v));
    } else if (!strcmp(name, "host.cgroupTemplate")) {
        CHKiRet(set_template(&inst->cgroup_tmpl, name, "cgroup", v));
    } else if (!strcmp(name, "host.pidfileTemplate")) {
        CHKiRet(set_template(&inst->pidfile_tmpl, name, "pidfile", v));
    } else if (!strcmp(name, "cm.ratePerSec")) {
        CHKiRet(set_rate(inst, v));
    } else if (!strcmp(name, "cache.hostTTL")) {
        CHKiRet(set_host_ttl(inst, v));
    } else if (!strcmp(name, "cm.startJitter")) {
        inst->start_jitter_ms = v->val.d.n;
    } else if (!set_cm_int(&inst->fetch_conf, name, v->val.d.n) &&
               !set_cache_param(&inst->cache_conf, name, v->val.d.n)) {
        dbgprintf("mmctxenrich: program error, non-handled param '%s'\n", name);
    }
finalize_it:
    RETiRet;
}

/* ---- files ------------------------------------------------------------------------ */

static void policy_destroy(void *p) { ctx_policy_free(p); }

static rsRetVal load_policy(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    ctx_policy *p = NULL;
    int rc = inst->policy_path ? ctx_policy_load(inst->policy_path, &p, err, sizeof err) : ctx_policy_default(&p);
    if (rc == 0 && (rc = ctx_slot_new(policy_destroy, &inst->policy)) == 0 && (rc = ctx_slot_set(inst->policy, p)) == 0)
        return RS_RET_OK;
    if (p != NULL) {
        ctx_policy_free(p);
        parser_errmsg("mmctxenrich: out of memory keeping the policy");
    } else if (inst->policy_path)
        parser_errmsg("mmctxenrich: parameter 'policy': %s", err);
    else
        parser_errmsg("mmctxenrich: out of memory building the default policy");
    return RS_RET_PARAM_ERROR;
}

/* the profile source, shared with imctxcap when both name the same file and URI */
static rsRetVal load_profiles(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    DEFiRet;
    if (inst->profiles_path == NULL && inst->libvirt_uri == NULL) {
        if (ctx_profiles_slot_new(&inst->own_profiles) != 0) ABORT_FINALIZE(RS_RET_OUT_OF_MEMORY);
        inst->profiles = inst->own_profiles;
        FINALIZE;
    }
    const char *param = inst->profiles_path ? "profiles" : "profiles.libvirt";
    if (ctx_profsrc_acquire(inst->profiles_path, inst->libvirt_uri, &inst->psrc, err, sizeof err) != 0) {
        parser_errmsg("mmctxenrich: parameter '%s': %s", param, err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (ctx_profsrc_overlap(inst->psrc, err, sizeof err))
        cnf_warning("mmctxenrich(%s): warning: %s", inst->name, err);
    inst->profiles = ctx_profsrc_slot(inst->psrc);
    ctx_profiles_t *p = ctx_profsrc_get(inst->psrc);
    int rc = mmx_host_set_vms(inst, p, err, sizeof err);
    ctx_profiles_unref(p);
    if (rc != 0) {
        parser_errmsg("mmctxenrich: parameter '%s': %s: %s", param, ctx_profsrc_name(inst->psrc), err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
finalize_it:
    RETiRet;
}

static rsRetVal make_sampler(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    hs_conf_t hc;
    hs_conf_defaults(&hc);
    hc.interval_ms = (int64_t)inst->sample_interval * 1000;
    if (inst->proc_root) hc.proc_root = inst->proc_root;
    if (inst->cgroup_root) hc.cgroup_root = inst->cgroup_root;
    hc.disk_paths = (const char *const *)inst->disk_paths;
    hc.n_disk_paths = cnf_list_len(inst->disk_paths);
    if (hostsample_new(&inst->hs, &hc, err, sizeof err) != 0) {
        param_error(err);
        return RS_RET_PARAM_ERROR;
    }
    return RS_RET_OK;
}

/* ---- compute manager -------------------------------------------------------------- */

/* a URL parameter needs its section in the field mapping */
static rsRetVal need_section(mmx_inst *inst, const char *url, const char *param, ctx_fm_section s,
                             const char *sname) {
    if (url == NULL || ctx_fieldmap_has(inst->map, s)) return RS_RET_OK;
    parser_errmsg("mmctxenrich: parameter '%s': the field mapping '%s' has no \"%s\" section", param,
                  inst->mapping_path, sname);
    return RS_RET_PARAM_ERROR;
}

static rsRetVal load_mapping(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    DEFiRet;
    if (inst->mapping_path == NULL) {
        parser_errmsg("mmctxenrich: parameter 'cm.mapping': required with cm.url, cm.statsUrl, cm.bulkUrl or "
                      "cm.hostUrl (a field mapping file, see docs/fieldmap.md)");
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (ctx_fieldmap_load(inst->mapping_path, &inst->map, err, sizeof err) != 0) {
        parser_errmsg("mmctxenrich: parameter 'cm.mapping': %s", err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKiRet(need_section(inst, inst->url, "cm.url", CTX_FM_VM, "vm"));
    CHKiRet(need_section(inst, inst->stats_url, "cm.statsUrl", CTX_FM_STATS, "stats"));
    CHKiRet(need_section(inst, inst->bulk_url, "cm.bulkUrl", CTX_FM_BULK, "bulk"));
    CHKiRet(need_section(inst, inst->host_url, "cm.hostUrl", CTX_FM_HOST, "host"));
    CHKiRet(need_section(inst, inst->hostid_url, "cm.hostIdUrl", CTX_FM_HOSTID, "hostid"));
    CHKiRet(mmx_cm_check_templates(inst));
finalize_it:
    RETiRet;
}

/* 1 if section s maps a field that the standard group shows (host_ip, guest_os) */
static int maps_standard_field(const ctx_fieldmap *m, ctx_fm_section s) {
    for (size_t i = 0; i < ctx_fieldmap_nfields(m, s); i++) {
        const char *n = ctx_fieldmap_field_name(m, s, i);
        if (!strcmp(n, "host_ip") || !strcmp(n, "guest_os")) return 1;
    }
    return 0;
}

/* 1 if a field name of section a is also mapped by section b */
static int sections_share(const ctx_fieldmap *m, ctx_fm_section a, ctx_fm_section b) {
    for (size_t i = 0; i < ctx_fieldmap_nfields(m, a); i++)
        for (size_t j = 0; j < ctx_fieldmap_nfields(m, b); j++)
            if (!strcmp(ctx_fieldmap_field_name(m, a, i), ctx_fieldmap_field_name(m, b, j))) return 1;
    return 0;
}

static void compute_needs(mmx_inst *inst) {
    const ctx_fieldmap *m = inst->map;
    /* parts: static (vm or bulk), dynamic (stats), host (host): may one key come from two? */
    inst->cm_overlap = sections_share(m, CTX_FM_VM, CTX_FM_STATS) || sections_share(m, CTX_FM_VM, CTX_FM_HOST) ||
                       sections_share(m, CTX_FM_BULK, CTX_FM_STATS) || sections_share(m, CTX_FM_BULK, CTX_FM_HOST) ||
                       sections_share(m, CTX_FM_STATS, CTX_FM_HOST);
    unsigned all = 0;
    if (inst->url || inst->bulk_url) all |= MMX_NEED_VM_STATIC;
    if (inst->stats_url) all |= MMX_NEED_VM_DYNAMIC;
    if (inst->host_url) all |= MMX_NEED_HOST;
    inst->need_verbose = all;
    inst->need_standard = all & MMX_NEED_VM_STATIC;
    if ((all & MMX_NEED_VM_DYNAMIC) && maps_standard_field(inst->map, CTX_FM_STATS))
        inst->need_standard |= MMX_NEED_VM_DYNAMIC;
    if ((all & MMX_NEED_HOST) && maps_standard_field(inst->map, CTX_FM_HOST)) inst->need_standard |= MMX_NEED_HOST;
    inst->bulk_period_ms = inst->cache_conf.static_ttl_ms / 2;
}

/* host: the fetcher of the host part, whose URL the fetcher knows as its cm.statsUrl */
static rsRetVal make_fetcher(mmx_inst *inst, cmfetch_t **out, const cmfetch_conf_t *fc, cmcache_t *cache,
                             cmfetch_reply_fn fn, int host) {
    char err[CTX_ERRLEN], named[CTX_ERRLEN + 16];
    static const char stats_key[] = "cm.statsUrl: ", url_key[] = "cm.url: ";
    if (cmfetch_new(out, fc, cache, fn, mmx_cm_on_log, inst, err, sizeof err) != 0) {
        if (host && strncmp(err, stats_key, sizeof stats_key - 1) == 0) {
            snprintf(named, sizeof named, "cm.hostUrl: %s", err + sizeof stats_key - 1);
            param_error(named);
        } else if (host && strncmp(err, url_key, sizeof url_key - 1) == 0) {
            snprintf(named, sizeof named, "cm.hostIdUrl: %s", err + sizeof url_key - 1);
            param_error(named);
        } else {
            param_error(err);
        }
        return RS_RET_PARAM_ERROR;
    }
    cmfetch_set_resolver(*out, mmx_cm_resolve);
    return RS_RET_OK;
}

/* a uniform 64-bit random number (start jitter) */
static uint64_t mmx_random(void) {
    uint64_t r;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) r = (uint64_t)cmcache_clock_ms() * 0x9E3779B97F4A7C15ull;
    return r;
}

static rsRetVal make_host_part(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    DEFiRet;
    cmcache_conf_t hc = inst->cache_conf;
    hc.max_entries = 4;
    hc.queue_max = 4;
    if (inst->host_ttl_ms > 0) hc.dynamic_ttl_ms = inst->host_ttl_ms;
    if (cmcache_new(&inst->hcache, &hc, err, sizeof err) != 0) {
        param_error(err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    cmfetch_conf_t fc = inst->fetch_conf;
    fc.url = inst->hostid_url;      /* the host's ids: the "static" part of one pseudo-VM */
    fc.bulk_url = NULL;
    fc.stats_url = inst->host_url; /* the host part is fetched as its "dynamic" part */
    if (fc.stats_url == NULL) fc.stats_url = fc.url; /* (a placeholder: the module never asks for it) */
    CHKiRet(make_fetcher(inst, &inst->hfetch, &fc, inst->hcache, mmx_cm_on_host_reply, 1));
finalize_it:
    RETiRet;
}

static rsRetVal make_cm(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    DEFiRet;
    if (!inst->url && !inst->stats_url && !inst->bulk_url && !inst->host_url && !inst->hostid_url) {
        if (inst->mapping_path == NULL) FINALIZE; /* no compute manager */
        parser_errmsg("mmctxenrich: parameter 'cm.mapping': set, but no cm.url, cm.statsUrl, cm.bulkUrl or "
                      "cm.hostUrl to use it with");
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    CHKiRet(load_mapping(inst));
    inst->fetch_conf.url = inst->url;
    inst->fetch_conf.stats_url = inst->stats_url;
    inst->fetch_conf.bulk_url = inst->bulk_url;
    inst->fetch_conf.token_file = inst->token_file;
    inst->fetch_conf.user = inst->user;
    inst->fetch_conf.password = inst->password;
    inst->fetch_conf.ca_file = inst->ca_file;
    inst->fetch_conf.headers = ctx_fieldmap_headers(inst->map);
    inst->fetch_conf.nheaders = ctx_fieldmap_nheaders(inst->map);
    if (inst->host_name == NULL) {
        char hn[256];
        if (gethostname(hn, sizeof hn) != 0) snprintf(hn, sizeof hn, "localhost");
        hn[sizeof hn - 1] = '\0';
        CHKmalloc(inst->host_name = strdup(hn));
    }
    inst->fetch_conf.host = inst->host_name;
    CHKiRet(mmx_cm_make_auth(inst, param_error));
    if (cmcache_conf_check(&inst->cache_conf, err, sizeof err) != 0) {
        param_error(err);
        ABORT_FINALIZE(RS_RET_PARAM_ERROR);
    }
    if (inst->url || inst->stats_url || inst->bulk_url) {
        if (cmcache_new(&inst->cache, &inst->cache_conf, err, sizeof err) != 0) {
            param_error(err);
            ABORT_FINALIZE(RS_RET_PARAM_ERROR);
        }
        CHKiRet(make_fetcher(inst, &inst->fetch, &inst->fetch_conf, inst->cache, mmx_cm_on_reply, 0));
    }
    if (inst->host_url || inst->hostid_url) CHKiRet(make_host_part(inst));
    compute_needs(inst);
finalize_it:
    RETiRet;
}

int mmx_finish(mmx_inst *inst) {
    DEFiRet;
    if (inst->name == NULL) CHKmalloc(inst->name = strdup("mmctxenrich"));
    CHKiRet(make_cm(inst));
    CHKiRet(load_policy(inst));
    CHKiRet(make_sampler(inst));
    CHKiRet(load_profiles(inst));
finalize_it:
    RETiRet;
}

/* ---- life cycle ------------------------------------------------------------------- */

/* a thread that did not start: which one, and what that leaves out */
static int start_failed(mmx_inst *inst, const char *which, const char *without, int rc) {
    LogError(0, RS_RET_ERR, "mmctxenrich(%s): cannot start the %s thread (%s): %s", inst->name, which,
             rc == CTX_ENOMEM ? "out of memory or threads" : "error", without);
    return -1;
}

static void lv_log(int level, const char *line) {
    if (level >= 2)
        LogError(0, RS_RET_ERR, "ctxlog profiles: %s", line);
    else
        LogMsg(0, NO_ERRCODE, level == 1 ? LOG_WARNING : LOG_INFO, "ctxlog profiles: %s", line);
}

/* the source installed a store (a HUP's reload or the libvirt watcher's thread; the
 * source's lock held): the sampler follows */
static void on_profiles(void *arg, const ctx_profiles_t *p) {
    mmx_inst *inst = arg;
    char err[CTX_ERRLEN];
    if (mmx_host_set_vms(inst, p, err, sizeof err) != 0)
        LogError(0, RS_RET_ERR, "mmctxenrich(%s): new profiles (%s): host sampling keeps its VM list: %s",
                 inst->name, ctx_profiles_source(p), err);
}

int mmx_start(mmx_inst *inst) {
    struct timespec rt;
    if (inst->started) return 0;
    inst->started = 1;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t now = cmcache_clock_ms();
    inst->wall_offset_ms = (int64_t)rt.tv_sec * 1000 + rt.tv_nsec / 1000000 - now;
    int rc = 0, e;
    if (inst->hs && (e = hostsample_start(inst->hs)) != 0)
        rc = start_failed(inst, "host sampler", "no VM or host figures", e);
    if (inst->fetch && (e = cmfetch_start(inst->fetch)) != 0)
        rc = start_failed(inst, "compute-manager fetcher", "no cm context", e);
    if (inst->hfetch && (e = cmfetch_start(inst->hfetch)) != 0)
        rc = start_failed(inst, "compute-manager host fetcher", "no cm host context", e);
    if (inst->psrc && (e = ctx_profsrc_listen(inst->psrc, on_profiles, inst)) != 0) {
        LogError(0, RS_RET_ERR, "mmctxenrich(%s): more actions than a profile source serves (16) share '%s': host "
                 "sampling keeps the VM list of the start", inst->name, ctx_profsrc_name(inst->psrc));
        rc = -1;
    } else if (inst->psrc) {
        char err[CTX_ERRLEN];
        if (ctx_profsrc_start(inst->psrc, lv_log, err, sizeof err) != 0) {
            LogError(0, RS_RET_ERR, "mmctxenrich(%s): profiles.libvirt: %s", inst->name, err);
            rc = -1;
        }
    }
    /* the first bulk listing: at a random time within cm.startJitter (hosts restarted
     * together do not all list at once); per-VM static fetches wait for it meanwhile */
    int64_t first = now;
    if (inst->cache && inst->bulk_url) {
        int64_t span = inst->start_jitter_ms < inst->bulk_period_ms ? inst->start_jitter_ms : inst->bulk_period_ms;
        if (span > 0) first = now + (int64_t)(mmx_random() % (uint64_t)(span + 1));
        /* held until the listing is answered or fails; at most the time of a login, the
         * listing and as much again (a listing that never comes must not hold them for ever) */
        cmcache_hold_static(inst->cache, first + 3 * inst->fetch_conf.timeout_ms);
        if (first == now) cmcache_request_bulk(inst->cache, now);
    }
    __atomic_store_n(&inst->next_bulk_ms, first == now ? now + 1000 : first, __ATOMIC_RELAXED);
    return rc;
}

void mmx_inst_free(mmx_inst *inst) {
    if (inst == NULL) return;
    /* threads first: they call back into the cache and the mapping */
    ctx_profsrc_unlisten(inst->psrc, inst);
    if (inst->auth) cmauth_shutdown(inst->auth);
    cmfetch_free(inst->fetch);
    cmfetch_free(inst->hfetch);
    cmauth_logout(inst->auth);
    cmauth_free(inst->auth);
    hostsample_free(inst->hs);
    cmcache_free(inst->cache);
    cmcache_free(inst->hcache);
    mmx_stats_destroy(inst);
    ctx_fieldmap_free(inst->map);
    ctx_slot_free(inst->policy);
    ctx_profsrc_release(inst->psrc);
    ctx_slot_free(inst->own_profiles);
    char **strs[] = {&inst->name, &inst->policy_path, &inst->profiles_path, &inst->libvirt_uri, &inst->mapping_path, &inst->proc_root,
                     &inst->cgroup_root, &inst->cgroup_tmpl, &inst->pidfile_tmpl, &inst->url, &inst->stats_url,
                     &inst->bulk_url, &inst->host_url, &inst->host_name, &inst->token_file, &inst->user,
                     &inst->password, &inst->ca_file, &inst->rate_text, &inst->hostid_url, &inst->auth_type,
                     &inst->auth_url, &inst->user_domain, &inst->project, &inst->project_domain,
                     &inst->password_file, &inst->appcred_id, &inst->appcred_secret_file};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) free(*strs[i]);
    cnf_list_free(inst->disk_paths);
    pthread_mutex_destroy(&inst->log_lock);
}

/* ---- HUP -------------------------------------------------------------------------- */

static void reload_policy(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    ctx_policy *fresh = NULL;
    if (inst->policy_path == NULL) return;
    if (ctx_policy_load(inst->policy_path, &fresh, err, sizeof err) != 0) {
        mmx_inc(inst, MMX_CTR_POLICY_RELOAD_ERRORS);
        LogError(0, RS_RET_CONF_PARAM_INVLD, "mmctxenrich(%s): HUP: policy not reloaded, keeping the rules in use: %s",
                 inst->name, err);
        return;
    }
    ctx_slot_ref_t *old = ctx_slot_acquire(inst->policy); /* the HUP thread is the only writer */
    ctx_policy_carry_counters(fresh, ctx_slot_obj(old));
    if (ctx_slot_set(inst->policy, fresh) != 0) {
        ctx_slot_release(old);
        ctx_policy_free(fresh);
        mmx_inc(inst, MMX_CTR_POLICY_RELOAD_ERRORS);
        LogError(0, RS_RET_OUT_OF_MEMORY, "mmctxenrich(%s): HUP: policy not reloaded (out of memory)", inst->name);
        return;
    }
    mmx_stats_policy(inst, fresh);
    ctx_slot_release(old);
    mmx_inc(inst, MMX_CTR_POLICY_RELOADS);
    LogMsg(0, NO_ERRCODE, LOG_INFO, "mmctxenrich(%s): HUP: policy reloaded from %s (%zu rules)", inst->name,
           inst->policy_path, ctx_policy_nrules(fresh));
}

/* the source is shared with imctxcap: whichever HUP handler runs first installs the
 * new file; the sampler's VM list follows every store the source installs (on_profiles,
 * called under the source's lock in the order of installation: a libvirt update at the
 * same time cannot leave the sampler with the older list) */
static void reload_profiles(mmx_inst *inst) {
    char err[CTX_ERRLEN];
    int changed = 0;
    if (inst->profiles_path == NULL) return;
    int rc = ctx_profsrc_reload(inst->psrc, &changed, err, sizeof err);
    if (rc != 0) {
        mmx_inc(inst, MMX_CTR_PROFILES_RELOAD_ERRORS);
        LogError(0, RS_RET_CONF_PARAM_INVLD,
                 "mmctxenrich(%s): HUP: profiles not reloaded, keeping the profiles in use: %s", inst->name, err);
        return;
    }
    ctx_profiles_t *p = ctx_profsrc_get(inst->psrc);
    size_t n = ctx_profiles_count(p);
    ctx_profiles_unref(p);
    mmx_inc(inst, MMX_CTR_PROFILES_RELOADS);
    LogMsg(0, NO_ERRCODE, LOG_INFO, "mmctxenrich(%s): HUP: profiles reloaded from %s (%zu VMs)%s", inst->name,
           inst->profiles_path, n, changed ? "" : " (unchanged)");
}

void mmx_reload(mmx_inst *inst) {
    reload_policy(inst);
    reload_profiles(inst);
}
