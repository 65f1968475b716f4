/* redact_card.c: the checks that tell a payment card number from the other long numbers of logs,
 * run by the card rule's callout once its regex found a candidate (digits, optionally grouped by
 * one kind of separator):
 *  - the issuer: the number starts with a range some network issues AND has a length that network
 *    uses (Visa 4: 13/16/19; Mastercard 51-55, 2221-2720: 16; Amex 34, 37: 15; Discover 6011,
 *    644-649, 65, 622126-622925: 16-19; UnionPay 62: 16-19; JCB 3528-3589: 16-19; Diners 300-305,
 *    36, 38-39: 14-19);
 *  - the Luhn check digit;
 *  - the context: a number that is the value of a field whose name says it is a number of another
 *    kind (`offset 5...`, `seed=4...`, `"id":6...`, `checksum=...`) is not a card. Without this, a
 *    uniform random positive 64-bit value (19 digits) passes issuer and Luhn about once in 55.
 *
 * Concurrency: pure functions of their arguments.
 */
#include <string.h>
#include <strings.h>

#include "ctxlog_common.h"
#include "redact_int.h"

struct issuer {
    unsigned lo, hi; /* range of the first `width` digits */
    int width;
    int minlen, maxlen; /* valid lengths; Visa's 13/16/19 is special-cased */
};

static const struct issuer issuers[] = {
    {4, 4, 1, 13, 19},            /* Visa: 13, 16, 19 */
    {51, 55, 2, 16, 16},          /* Mastercard */
    {2221, 2720, 4, 16, 16},      /* Mastercard 2-series */
    {34, 34, 2, 15, 15},          /* Amex */
    {37, 37, 2, 15, 15},          /* Amex */
    {6011, 6011, 4, 16, 19},      /* Discover */
    {644, 649, 3, 16, 19},        /* Discover */
    {65, 65, 2, 16, 19},          /* Discover */
    {622126, 622925, 6, 16, 19},  /* Discover (co-branded UnionPay) */
    {62, 62, 2, 16, 19},          /* UnionPay */
    {3528, 3589, 4, 16, 19},      /* JCB */
    {300, 305, 3, 14, 19},        /* Diners Club */
    {36, 36, 2, 14, 19},          /* Diners Club */
    {38, 39, 2, 14, 19},          /* Diners Club */
};

/* names of fields that hold numbers of other kinds: a number right after one is not a card */
static const char *const numeric_fields[] = {
    "offset", "seed",  "hash",  "hashcode", "checksum", "crc",   "sum",   "min",    "max",   "avg",
    "count",  "total", "seq",   "sequence", "index",    "idx",   "term",  "epoch",  "nonce", "ts",
    "time",   "timestamp", "nanos", "millis", "size",   "length", "bytes", "id",   "ids",   "version",
    "lsn",    "zxid",  "serial", "inode",   "generation", NULL,
};

static int issued(const int *d, int n) {
    for (size_t i = 0; i < sizeof issuers / sizeof issuers[0]; i++) {
        const struct issuer *is = &issuers[i];
        unsigned v = 0;
        for (int k = 0; k < is->width; k++) v = v * 10 + (unsigned)d[k];
        if (v < is->lo || v > is->hi || n < is->minlen || n > is->maxlen) continue;
        if (is->lo == 4 && is->width == 1 && n != 13 && n != 16 && n != 19) continue;
        return 1;
    }
    return 0;
}

static int luhn(const int *d, int n) {
    int sum = 0;
    for (int i = n - 1, dbl = 0; i >= 0; i--, dbl ^= 1) {
        int x = d[i];
        if (dbl) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
        sum += x;
    }
    return sum % 10 == 0;
}

/* the digits of s[0..len) (separators ' ', '-', '.' skipped) into d[19]; count, or -1 */
static int digits_of(const char *s, size_t len, int *d) {
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (n == 19) return -1;
            d[n++] = s[i] - '0';
        } else if (s[i] != ' ' && s[i] != '-' && s[i] != '.') {
            return -1;
        }
    }
    return n;
}

static int is_word(unsigned char c) { return ((c | 32) >= 'a' && (c | 32) <= 'z') || c == '_'; }

/* the number at subj[start] follows "NAME", "NAME=", "NAME: ", "\"NAME\":\"", "(NAME)=(" ... of a
 * numeric field: up to 4 bytes of punctuation, then a word that ends with one of the names (and
 * starts there, or after '_' / a lower-to-upper case change: "channel_id", "shardId") */
static int numeric_context(const char *subj, size_t start) {
    size_t i = start, p = 0;
    while (i > 0 && p < 4 && strchr(" =:\"'()[", subj[i - 1]) != NULL && subj[i - 1] != '\0') i--, p++;
    size_t e = i;
    while (i > 0 && is_word((unsigned char)subj[i - 1])) i--;
    if (e == i || e - i > 48) return 0;
    for (const char *const *f = numeric_fields; *f; f++) {
        size_t fl = strlen(*f);
        if (fl > e - i || strncasecmp(subj + e - fl, *f, fl) != 0) continue;
        size_t b = e - fl;
        unsigned char before = b > i ? (unsigned char)subj[b - 1] : 0;
        if (b == i || before == '_' || (before >= 'a' && before <= 'z' && subj[b] >= 'A' && subj[b] <= 'Z')) return 1;
    }
    return 0;
}

int rx_card_ok(const char *subj, size_t start, size_t end) {
    int d[19];
    int n = digits_of(subj + start, end - start, d);
    if (n < 13 || !issued(d, n) || !luhn(d, n)) return 0;
    return !numeric_context(subj, start);
}
