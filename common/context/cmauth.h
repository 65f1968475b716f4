/* cmauth.h: how mmctxenrich's compute-manager fetchers authenticate when the compute
 * manager hands out tokens or sessions (a static bearer token or basic auth need none
 * of this: cmfetch.h does them).
 *
 *   CM_AUTH_KEYSTONE  OpenStack Keystone v3: POST <cm.authUrl> (…/v3/auth/tokens) with a
 *                     password (user, user domain, project, project domain) or an
 *                     application credential (id, secret); the token is the reply's
 *                     X-Subject-Token header, valid until the body's token.expires_at.
 *                     Requests carry "X-Auth-Token: <token>". The token is renewed
 *                     before it expires (at expires_at minus a fifth of its lifetime,
 *                     at most 60 s before) and once after a 401.
 *   CM_AUTH_VCENTER   vSphere Automation API: POST <cm.authUrl> (…/api/session) with
 *                     basic auth (user, password); the reply body is the session id as
 *                     a JSON string. Requests carry "vmware-api-session-id: <id>". A new
 *                     session is made after a 401 (sessions end after idle time).
 *
 * Secrets (password, application-credential secret) are read from files that only
 * their owner may read (common/base/secretfile with group or world access an error),
 * when the object is made (config errors) and again at each login (rotation).
 *
 * One object is shared by the fetchers of a compute manager. A login runs on the
 * thread that needs it (a blocking libcurl transfer, aborted when that thread's stop
 * flag or cmauth_shutdown() is set); another thread that needs the header meanwhile
 * gets CTX_EAGAIN ("busy", retry soon) instead of waiting. After a failed login, logins
 * back off (exponential, with jitter) and cmauth_header() answers CM_AUTH_DOWN at once;
 * the failure is logged once with its reason, again only when the reason changes, and
 * a later success is logged once.
 *
 * Thread-safety: cmauth_new / _free from one thread; everything else from any thread.
 */
#ifndef CTXLOG_CMAUTH_H
#define CTXLOG_CMAUTH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cmauth cmauth_t;

typedef enum { CM_AUTH_NONE = 0, CM_AUTH_KEYSTONE = 1, CM_AUTH_VCENTER = 2 } cm_auth_type_t;

/* All strings borrowed by cmauth_new() and copied. Key names are the module's parameters. */
typedef struct cmauth_conf {
    int type;                       /* cm.auth: cm_auth_type_t */
    const char *url;                /* cm.authUrl: the login URL (required) */
    const char *user;               /* cm.user */
    const char *user_domain;        /* cm.userDomain: Keystone, default "Default" */
    const char *project;            /* cm.project: Keystone password scope (project name) */
    const char *project_domain;     /* cm.projectDomain: default "Default" */
    const char *password_file;      /* cm.passwordFile */
    const char *appcred_id;         /* cm.appCredId: Keystone application credential */
    const char *appcred_secret_file;/* cm.appCredSecretFile */
    const char *ca_file;            /* cm.caFile */
    int tls_verify;                 /* cm.tlsVerify */
    int allow_insecure;             /* cm.allowInsecure: http:// login URL accepted */
    long connect_timeout_ms;        /* cm.connectTimeout */
    long timeout_ms;                /* cm.timeout */
    size_t max_body;                /* cm.maxResponseBytes: largest login reply */
    const char *user_agent;
    int64_t backoff_min_ms;         /* first delay after a failed login, default 1000 */
    int64_t backoff_max_ms;         /* cap, default 300000 */
} cmauth_conf_t;

/* Fills the defaults (type NONE). */
void cmauth_conf_defaults(cmauth_conf_t *conf);

/* "keystone" / "vcenter" -> type; -1 if neither. */
int cmauth_type_parse(const char *s);

/* One line (no newline) for the log. */
typedef void (*cmauth_log_fn)(void *arg, const char *line);

/* Checks conf (which keys each type needs, URL scheme) and the secret files (readable,
 * fit to hold a secret); no network. 0 and *out, or CTX_EINVAL / CTX_EIO / CTX_ENOMEM
 * with one line in err naming the key ("cm.passwordFile: '/x' cannot hold a secret:
 * readable by its group (mode 0640): expected 0600"). log may be NULL. */
int cmauth_new(cmauth_t **out, const cmauth_conf_t *conf, cmauth_log_fn log, void *log_arg, char *err,
               size_t errlen);
void cmauth_free(cmauth_t *a);

/* Makes logins in progress and later ones fail at once (shutdown). */
void cmauth_shutdown(cmauth_t *a);

/* vCenter: ends the session (DELETE cm.authUrl with its header, at most 2 s, best
 * effort) so that restarts do not pile up sessions until they idle out; Keystone tokens
 * just expire. Call after the fetchers stopped, before cmauth_free(). */
void cmauth_logout(cmauth_t *a);

enum { CM_AUTH_OK = 0, CM_AUTH_BUSY = 1, CM_AUTH_DOWN = 2 };

/* The header line for a request now ("X-Auth-Token: …" / "vmware-api-session-id: …")
 * into hdr, logging in first if there is no token or it is due for renewal. *gen
 * identifies the token (for cmauth_rejected). Returns CM_AUTH_OK; CM_AUTH_BUSY if
 * another thread is logging in (try again shortly); CM_AUTH_DOWN if the last login
 * failed and the next is not due yet, or this one failed (the request cannot be sent).
 * stop (may be NULL) aborts a login this call runs. */
int cmauth_header(cmauth_t *a, int64_t now_ms, char *hdr, size_t hdrlen, uint64_t *gen, const atomic_bool *stop);

/* A request sent with token gen got 401. Returns 1 if the caller should send it once
 * more (the token is dropped, the next cmauth_header() logs in; or a newer token
 * exists already), 0 if not (that token was less than a second old: the compute
 * manager refuses fresh tokens, logging in again would not help). */
int cmauth_rejected(cmauth_t *a, uint64_t gen, int64_t now_ms);

typedef struct cmauth_stats {
    uint64_t requests;  /* login requests sent */
    uint64_t failures;  /* logins that failed (refused, transport, bad reply) */
    uint64_t renewals;  /* logins because the token neared its expiry */
    uint64_t rejected;  /* 401 replies that dropped the token (a retry followed) */
} cmauth_stats_t;
void cmauth_get_stats(cmauth_t *a, cmauth_stats_t *out);

/* ---- the reply parsers (pure; exported for the unit tests) ---------------------- */

/* Keystone: the token.expires_at of a reply body ("2026-12-02T08:00:00.000000Z") as
 * Unix ms into *exp. 0, or CTX_EPARSE with why. */
int cmauth_keystone_expiry(const char *body, size_t len, int64_t *exp_ms, const char **why);
/* vCenter: the session id of a reply body (a JSON string; {"value": "…"} of the older
 * /rest API too) into out. Length, or CTX_EPARSE (why) / CTX_EFULL. Only printable
 * ASCII without spaces is accepted (it goes into a header). */
int cmauth_vcenter_session(const char *body, size_t len, char *out, size_t outlen, const char **why);
/* The reason a compute manager gave for refusing a login: Keystone's error.message,
 * vCenter's messages[0].default_message or error_type, else "" — printable, at most
 * outlen - 1 bytes. */
void cmauth_reason(const char *body, size_t len, char *out, size_t outlen);

#endif
