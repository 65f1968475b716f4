/* redact_hmac.c: the keyed-hash replacement. HMAC-SHA256 (OpenSSL 3 EVP_MAC) of the secret's bytes
 * with a key read from a file, shown as its first N hex digits: "[H:3f9a1c2e]". Equal secrets give
 * equal tags under one key, so they stay correlatable without being readable.
 *
 * Concurrency: the key is read while loading and read-only afterwards; each ctx (thread) has its own
 * EVP_MAC_CTX. The EVP_MAC algorithm object is fetched per ctx (OpenSSL fetches are thread-safe).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxlog_common.h"
#include "redact_int.h"
#include "secretfile.h"

#define KEY_MIN 16
#define KEY_MAX 4096

static int read_all(int fd, unsigned char *buf, size_t cap, size_t *len) {
    *len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        *len += (size_t)n;
        if (*len == cap) return 1; /* too long */
    }
}

int rx_key_load(struct ctx_redact_rules *rules, const char *path, char *err, size_t errlen) {
    unsigned char *buf = malloc(KEY_MAX + 1);
    struct stat st;
    size_t len = 0;
    if (buf == NULL) return CTX_ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fstat(fd, &st) < 0 ? -1 : read_all(fd, buf, KEY_MAX + 1, &len);
    if (rc < 0)
        snprintf(err, errlen, "key file %s: cannot read: %s", path, strerror(errno));
    else if (rc > 0)
        snprintf(err, errlen, "key file %s: longer than %d bytes, expected a key", path, KEY_MAX);
    if (fd >= 0) close(fd);
    if (rc == 0 && len > 0 && buf[len - 1] == '\n') len--;
    if (rc == 0 && len > 0 && buf[len - 1] == '\r') len--;
    char why[sizeof rules->key_mode_why] = "";
    int verdict = rc == 0 ? ctx_secret_check(&st, geteuid(), why, sizeof why) : CTX_SECRET_OK;
    if (verdict == CTX_SECRET_REFUSE) {
        snprintf(err, errlen, "key file %s cannot hold a secret: %s", path, why);
        rc = 1;
    }
    if (rc == 0 && len < KEY_MIN) {
        snprintf(err, errlen, "key file %s: %zu bytes, expected at least %d", path, len, KEY_MIN);
        rc = 1;
    }
    if (rc != 0) {
        OPENSSL_cleanse(buf, KEY_MAX + 1);
        free(buf);
        return rc < 0 ? CTX_EIO : CTX_EPARSE;
    }
    if (verdict == CTX_SECRET_WARN) {
        rules->warnings |= CTX_REDACT_WARN_KEY_WORLD_READABLE;
        snprintf(rules->key_mode_why, sizeof rules->key_mode_why, "%s", why);
    }
    rules->key = buf;
    rules->keylen = len;
    rules->key_path = strdup(path);
    return rules->key_path ? 0 : CTX_ENOMEM;
}

void *rx_mac_new(const struct ctx_redact_rules *rules) {
    if (rules->key == NULL) return NULL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *m = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the ctx keeps its own reference */
    return m;
}

void rx_mac_free(void *mac) { EVP_MAC_CTX_free(mac); }

/* hex (hexlen digits + NUL) of HMAC-SHA256(key, s); returns 0 or CTX_EINVAL */
int rx_mac_tag(void *mac, const struct ctx_redact_rules *rules, const char *s, size_t len, char *hex, int hexlen) {
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    size_t mdlen = 0;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end()};
    if (mac == NULL || !EVP_MAC_init(mac, rules->key, rules->keylen, params) ||
        !EVP_MAC_update(mac, (const unsigned char *)s, len) || !EVP_MAC_final(mac, md, &mdlen, sizeof md) ||
        mdlen != sizeof md)
        return CTX_EINVAL;
    for (int i = 0; i < hexlen; i++) hex[i] = digits[(md[i / 2] >> ((i & 1) ? 0 : 4)) & 0xF];
    hex[hexlen] = '\0';
    return 0;
}
