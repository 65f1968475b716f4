/* cmhttp.c: the reply body and transfer options of the compute manager's HTTP
 * clients (cmhttp.h). */
#include "cmhttp.h"

#include <stdlib.h>
#include <string.h>

size_t cm_body_write(char *p, size_t size, size_t nmemb, void *body) {
    cm_body_t *b = body;
    size_t add = size * nmemb;
    if (add > b->max - b->len) {
        b->too_big = true;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1) cap *= 2;
        if (cap > b->max + 1) cap = b->max + 1;
        char *d = realloc(b->data, cap);
        if (d == NULL) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

void cm_http_setopts(CURL *e, const cm_http_conf_t *c) {
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
}
