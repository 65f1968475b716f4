/* redact_conf.h: the rules file as parsed, before compiling (internal to the redact_*.c files). */
#ifndef CTXLOG_REDACT_CONF_H
#define CTXLOG_REDACT_CONF_H

#include <stddef.h>

struct rx_setting { /* one enable / disable / replace.RULE line of a [global] or [tenant] section */
    char *key;      /* "enable", "disable" or "replace.RULE" */
    char *value;
    int line;
};

struct rx_section { /* [global] (tenant NULL) or [tenant NAME] */
    char *tenant;
    int line;
    struct rx_setting *set;
    size_t nset;
};

struct rx_custom { /* one [rule NAME] */
    char *name;
    int line; /* of the section header */
    char *pattern;
    int pattern_line;
    int group; /* 0.., or RX_GROUP_ANY */
    int group_line;
    char *replace; /* NULL = redact */
    int replace_line;
    int validator;
    char *trig; /* ','-separated, or NULL */
    char *trig_nocase;
    int trig_line;
    int caseless;
    int enabled;
    char *tenants; /* ','-separated, or NULL = every tenant */
    int tenants_line;
};

struct rx_conf {
    const char *file; /* name used in messages (borrowed) */
    char *dir;        /* directory of the file, for a relative key_file; NULL for a string */
    char *key_file;
    int key_file_line;
    int hash_len;     /* 8 */
    int utf8_replace; /* 1 */
    char **keys;      /* secret key names, NULL-terminated */
    size_t nkeys;
    struct rx_section global;
    struct rx_section *tenant;
    size_t ntenant;
    struct rx_custom *rule;
    size_t nrule;
};

/* Parse text into conf (zeroed by the caller; conf->file set). Returns 0 or CTX_EPARSE / CTX_ENOMEM
 * with err = "FILE:LINE: what, expected what". */
int rx_conf_parse(struct rx_conf *conf, const char *text, size_t len, char *err, size_t errlen);
void rx_conf_clear(struct rx_conf *conf);

/* "mask:4" -> mode / keep; returns 0 or -1 */
int rx_parse_mode(const char *v, int *mode, int *keep);

/* a rule or tenant name: [A-Za-z0-9_-], 1..RX_NAME_MAX characters */
int rx_name_ok(const char *s);

#endif
