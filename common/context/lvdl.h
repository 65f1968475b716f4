/* lvdl.h: libvirt and libxml2, loaded when first needed.
 *
 * Only `profiles.libvirt` uses them (profiles_libvirt.c, profiles_lvxml.c). Linked
 * into the modules, they and what they pull in (glib, gio, ICU, libstdc++, GnuTLS,
 * libssh, ...) were mapped into every rsyslogd that loads imctxcap or mmctxenrich:
 * ~8 MiB of resident library pages on a host that reads its profiles from a file
 * (docs/cost-model.md). ctx_lvdl_load() dlopen()s both (never closed) and resolves the
 * functions below; a file that includes this header calls them through that table
 * (the macros at the end), so its code reads as plain libvirt / libxml2 calls.
 * Call ctx_lvdl_load() before the first such call.
 */
#ifndef CTXLOG_LVDL_H
#define CTXLOG_LVDL_H

#include <stddef.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#define CTX_LVDL_VIR(X)                                                                                               \
    X(virConnectClose)                                                                                                \
    X(virConnectDomainEventDeregisterAny)                                                                             \
    X(virConnectDomainEventRegisterAny)                                                                               \
    X(virConnectIsAlive)                                                                                              \
    X(virConnectListAllDomains)                                                                                       \
    X(virConnectOpenReadOnly)                                                                                         \
    X(virConnectRegisterCloseCallback)                                                                                \
    X(virConnectSetKeepAlive)                                                                                         \
    X(virConnectUnregisterCloseCallback)                                                                              \
    X(virDomainFree)                                                                                                  \
    X(virDomainGetXMLDesc)                                                                                            \
    X(virEventAddTimeout)                                                                                             \
    X(virEventRegisterDefaultImpl)                                                                                    \
    X(virEventRemoveTimeout)                                                                                          \
    X(virEventRunDefaultImpl)                                                                                         \
    X(virEventUpdateTimeout)                                                                                          \
    X(virGetLastError)                                                                                                \
    X(virSetErrorFunc)
#define CTX_LVDL_XML(X)                                                                                               \
    X(xmlCtxtReadMemory)                                                                                              \
    X(xmlDocGetRootElement)                                                                                           \
    X(xmlFreeDoc)                                                                                                     \
    X(xmlFreeParserCtxt)                                                                                              \
    X(xmlGetNoNsProp)                                                                                                 \
    X(xmlInitParser)                                                                                                  \
    X(xmlNewParserCtxt)                                                                                               \
    X(xmlNodeGetContent)

#define CTX_LVDL_MEMBER(f) __typeof__(f) *f;
struct ctx_lvdl {
    CTX_LVDL_VIR(CTX_LVDL_MEMBER)
    CTX_LVDL_XML(CTX_LVDL_MEMBER)
    xmlFreeFunc *xml_free; /* libxml2's variable xmlFree (the function that frees what it returns) */
};
#undef CTX_LVDL_MEMBER

/* The table; valid once ctx_lvdl_load() returned 0. */
extern const struct ctx_lvdl *ctx_lvdl_api;

/* Loads libvirt.so.0 and libxml2.so.2 once (thread-safe). 0, or CTX_EIO with
 * "cannot load libvirt: <dlerror>" (or the missing function) in err. */
int ctx_lvdl_load(char *err, size_t errlen);

#ifndef CTX_LVDL_IMPL
#define CTX_LVDL_CALL(f) (ctx_lvdl_api->f)
#define virConnectClose CTX_LVDL_CALL(virConnectClose)
#define virConnectDomainEventDeregisterAny CTX_LVDL_CALL(virConnectDomainEventDeregisterAny)
#define virConnectDomainEventRegisterAny CTX_LVDL_CALL(virConnectDomainEventRegisterAny)
#define virConnectIsAlive CTX_LVDL_CALL(virConnectIsAlive)
#define virConnectListAllDomains CTX_LVDL_CALL(virConnectListAllDomains)
#define virConnectOpenReadOnly CTX_LVDL_CALL(virConnectOpenReadOnly)
#define virConnectRegisterCloseCallback CTX_LVDL_CALL(virConnectRegisterCloseCallback)
#define virConnectSetKeepAlive CTX_LVDL_CALL(virConnectSetKeepAlive)
#define virConnectUnregisterCloseCallback CTX_LVDL_CALL(virConnectUnregisterCloseCallback)
#define virDomainFree CTX_LVDL_CALL(virDomainFree)
#define virDomainGetXMLDesc CTX_LVDL_CALL(virDomainGetXMLDesc)
#define virEventAddTimeout CTX_LVDL_CALL(virEventAddTimeout)
#define virEventRegisterDefaultImpl CTX_LVDL_CALL(virEventRegisterDefaultImpl)
#define virEventRemoveTimeout CTX_LVDL_CALL(virEventRemoveTimeout)
#define virEventRunDefaultImpl CTX_LVDL_CALL(virEventRunDefaultImpl)
#define virEventUpdateTimeout CTX_LVDL_CALL(virEventUpdateTimeout)
#define virGetLastError CTX_LVDL_CALL(virGetLastError)
#define virSetErrorFunc CTX_LVDL_CALL(virSetErrorFunc)
#define xmlCtxtReadMemory CTX_LVDL_CALL(xmlCtxtReadMemory)
#define xmlDocGetRootElement CTX_LVDL_CALL(xmlDocGetRootElement)
#define xmlFreeDoc CTX_LVDL_CALL(xmlFreeDoc)
#define xmlFreeParserCtxt CTX_LVDL_CALL(xmlFreeParserCtxt)
#define xmlGetNoNsProp CTX_LVDL_CALL(xmlGetNoNsProp)
#define xmlInitParser CTX_LVDL_CALL(xmlInitParser)
#define xmlNewParserCtxt CTX_LVDL_CALL(xmlNewParserCtxt)
#define xmlNodeGetContent CTX_LVDL_CALL(xmlNodeGetContent)
#undef xmlFree
#define xmlFree (*ctx_lvdl_api->xml_free)
#endif

#endif
