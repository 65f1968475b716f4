/* tplscan.h: does any template of the configuration read a shared $!ctx group on its
 * own? (header-only; included by plugin files after rsyslog's headers: rsconf.h,
 * template.h).
 *
 * A frozen group (common/base/jsonfreeze.h) is safe as a member of the $!ctx that a
 * template renders, and its string members are safe to read (rsyslog takes a string's
 * own storage), but a template that names the group itself makes rsyslog serialize the
 * shared object on its own, in the object's print buffer: the module then builds that
 * group per message instead. Used by mmctxenrich ($!ctx!cm, $!ctx!host) and imctxcap
 * ($!ctx!vm).
 *
 * Concurrency: config-load thread only.
 */
#ifndef CTXLOG_TPLSCAN_H
#define CTXLOG_TPLSCAN_H

#include <string.h>
#include <strings.h>

/* 1 if a JSON property name ("!ctx!host!load1") is the group ("host") itself, or, when
 * below is 1, also a name below it */
static inline int tplscan_names_group(const char *name, const char *group, int below) {
    static const char prefix[] = "!ctx!";
    size_t pl = sizeof prefix - 1, gl = strlen(group);
    if (strncasecmp(name, prefix, pl) != 0 || strncasecmp(name + pl, group, gl) != 0) return 0;
    return name[pl + gl] == '\0' || (below && name[pl + gl] == '!');
}

/* The first template of conf that names $<group> (or, with below, a property under it):
 * returns the template's name and sets *prop to the property's name; NULL if none. */
static inline const char *tplscan_find(rsconf_t *conf, const char *group, int below, const char **prop) {
    for (struct template *t = conf ? conf->templates.root : NULL; t != NULL; t = t->pNext) {
        for (struct templateEntry *te = t->pEntryRoot; te != NULL; te = te->pNext) {
            if (te->eEntryType != FIELD || te->data.field.msgProp.id != PROP_CEE) continue;
            const char *n = (const char *)te->data.field.msgProp.name;
            if (n == NULL || !tplscan_names_group(n, group, below)) continue;
            *prop = n;
            return (const char *)t->pszName;
        }
    }
    return NULL;
}

#endif
