/* fmt.c: what every body format shares (fmt.h). */
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctxlog_common.h"

int ctx_fmt_buf_append(ctx_fmt_buf_t *b, const void *p, size_t n) {
    if (n == 0) return 0;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) return CTX_ENOMEM;
            cap *= 2;
        }
        unsigned char *nb = realloc(b->buf, cap);
        if (nb == NULL) return CTX_ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}
