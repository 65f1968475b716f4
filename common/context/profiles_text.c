/* profiles_text.c: checks and formatting of profile field text (names, tenant ids,
 * MACs, cgroup paths, addresses) shared by every source of profiles. Pure functions.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "profiles.h"
#include "profiles_int.h"

#define TENANT_MAX 64
#define CGROUP_MAX 4095
#define QUOTE_MAX 48

/* Writes s (n bytes) quoted, non-printables as \xNN, cut after QUOTE_MAX bytes. */
void ctx_prof_quote(char *dst, size_t dl, const char *s, size_t n) {
    size_t o = 1;
    dst[0] = '"';
    for (size_t i = 0; i < n && o + 8 < dl; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == QUOTE_MAX) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(dst + o, dl - o, c == '"' || c == '\\' ? "\\%c" : "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

/* 1 if s[0..n) is UTF-8 without control characters (C0, DEL, C1), surrogates or overlongs. */
int ctx_prof_text_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return 0;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) need = 3, cp = c & 0x07;
        else return 0;
        if (n - i <= need) return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
        if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) return 0;
        i += need + 1;
    }
    return 1;
}

int ctx_tenant_id_valid(const char *s) {
    if (s == NULL) return 0;
    size_t n = strlen(s);
    if (n == 0 || n > TENANT_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ctx_prof_mac_parse(const char *s, size_t n, uint8_t m[6]) {
    if (n != 17) return 0;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return 0;
        m[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

int ctx_prof_cgroup_ok(const char *s, size_t n) {
    if (n == 0 || n > CGROUP_MAX || s[0] != '/' || !ctx_prof_text_ok((const unsigned char *)s, n)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/' && s[i + 1] == '.' && s[i + 2] == '.' && (s[i + 3] == '/' || s[i + 3] == '\0')) return 0;
    }
    return 1;
}

int ctx_prof_ip_unicast(const ctx_ip_t *ip) {
    static const uint8_t v6zero[16];
    if (ip->family == AF_INET) {
        const uint8_t *a = ip->addr + 12;
        return !(a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) && a[0] < 224;
    }
    return memcmp(ip->addr, v6zero, 16) != 0 && ip->addr[0] != 0xff;
}

