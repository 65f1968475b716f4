/* lvdl.c: libvirt and libxml2 loaded on first use (see lvdl.h). */
#define CTX_LVDL_IMPL 1
#include "lvdl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ctxlog_common.h"

const struct ctx_lvdl *ctx_lvdl_api;

static struct ctx_lvdl table;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256]; /* empty once loaded */

/* the address of name in h (loaded), or NULL with load_error set */
static void *sym(void *h, const char *lib, const char *name) {
    void *p = dlsym(h, name);
    if (p == NULL) snprintf(load_error, sizeof load_error, "cannot load %s: it has no %s", lib, name);
    return p;
}

static void load(void) {
    /* never closed: libvirt's event loop and error state live as long as the process */
    void *lv = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lv == NULL) snprintf(load_error, sizeof load_error, "cannot load libvirt.so.0: %s", dlerror());
    void *xml = load_error[0] ? NULL : dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (xml == NULL && load_error[0] == '\0')
        snprintf(load_error, sizeof load_error, "cannot load libxml2.so.2: %s", dlerror());
    void *p;
#define CTX_LVDL_RESOLVE(h, lib, f)                                                                                   \
    if (load_error[0] == '\0' && (p = sym(h, lib, #f)) != NULL) memcpy(&table.f, &p, sizeof p);
#define CTX_LVDL_VIR1(f) CTX_LVDL_RESOLVE(lv, "libvirt.so.0", f)
#define CTX_LVDL_XML1(f) CTX_LVDL_RESOLVE(xml, "libxml2.so.2", f)
    CTX_LVDL_VIR(CTX_LVDL_VIR1)
    CTX_LVDL_XML(CTX_LVDL_XML1)
    if (load_error[0] == '\0' && (p = sym(xml, "libxml2.so.2", "xmlFree")) != NULL) table.xml_free = p;
    if (load_error[0] == '\0') ctx_lvdl_api = &table;
}

int ctx_lvdl_load(char *err, size_t errlen) {
    pthread_once(&once, load);
    if (ctx_lvdl_api != NULL) return 0;
    if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", load_error);
    return CTX_EIO;
}
