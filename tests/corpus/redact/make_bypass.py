#!/usr/bin/env python3
"""Writes bypass.tsv beside this script: one row per way a secret slipped past the rules before
issue 16, each in a few shapes (deterministic: seeded).

bypass.tsv: RULE <TAB> MODE <TAB> SECRET <TAB> LINE, as secrets.tsv (make_corpus.py), plus MODE
  cut: LINE is a message cut at maxMessageSize (ctx_redact_apply_cut)
Classes: key:value without a space; key => value; <key>value</key>; mysql -pPASSWORD; JSON \\u
escapes in key names and secrets; percent-encoded key names and URLs; cards separated by dots;
a password holding '@' in a URL; a secret's start at the end of a cut message.
tests/unit/test_redact_corpus.c requires every SECRET gone (recall 100 %).
"""
import random

from make_corpus import write_tsv

R = random.Random(20261128)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HOST = "web01 app[1234]:"
rows = []


def rnd(alphabet, n):
    return "".join(R.choice(alphabet) for _ in range(n))


def add(rule, secret, line, mode="text"):
    assert secret in line and "\t" not in line, (rule, secret, line)
    rows.append((rule, mode, secret, line))


def u_escape(s, every=3, backslashes=1):
    """every `every`-th character as \\u00XX"""
    return "".join("\\" * backslashes + "u%04x" % ord(c) if i % every == 1 else c for i, c in enumerate(s))


def pct(s, every=1):
    return "".join("%%%02X" % ord(c) if i % every == 0 else c for i, c in enumerate(s))


def colon_arrow_xml():
    for key in ["password", "db_password", "token", "client_secret"]:
        s = rnd(ALNUM, 12)
        add("kv-secret", s, "%s login %s:%s ok" % (HOST, key, s))
    for fmt in ["%s cfg {:password => '%s', :user => 'bob'}", "%s $db = array('password' => \"%s\");",
                "%s my %%c = (secret => %s);", "%s opts: api_key=>%s retries=>3"]:
        s = rnd(ALNUM, 12)
        add("kv-secret", s, fmt % (HOST, s))
    for fmt in ["%s <user>bob</user><password>%s</password>", "%s <db:password>%s</db:password>",
                "%s <Password type=\"plain\">%s</Password>", "%s <jdbc_password>%s</jdbc_password>",
                "<config><apiKey>%s</apiKey></config>"]:
        s = rnd(ALNUM, 14)
        add("kv-secret", s, fmt % ((HOST, s) if fmt.startswith("%s ") else (s,)))


def mysql():
    for fmt in ["%s exec: mysql -uroot -p%s -h db1 shop", "%s exec: /usr/bin/mysqldump --single-transaction -u backup -p%s shop",
                "%s cron: mysqladmin --host=db1 -u admin -p%s status", "%s run: mariadb -h 10.0.0.5 -P 3306 -p%s -e status",
                "%s sh -c 'mysql -u app -p%s app < /tmp/seed.sql'"]:
        s = rnd(ALNUM, 12)
        add("kv-secret", s, fmt % (HOST, s))
    s = rnd(ALNUM, 8) + " " + rnd(ALNUM, 4)
    add("kv-secret", s, "%s exec: mysqldump -u backup -p'%s' shop" % (HOST, s))


def json_escapes():
    for key in ["password", "api_key", "secret", "token"]:
        s = rnd(ALNUM, 12)
        add("kv-secret", s, '{"%s":"%s","user":"bob"}' % (u_escape(key), s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '%s payload="{\\"%s\\":\\"%s\\"}"' % (HOST, u_escape("password", 4, 2), s))
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k[1:], '{"AccessKeyId":"\\u0041%s"}' % k[1:])
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k[4:], '{"AccessKeyId":"A\\u004bIA%s"}' % k[4:])
    t = "ghp_" + rnd(ALNUM, 36)
    add("github-token", t[2:], '{"auth":"\\u0067\\u0068%s"}' % t[2:])


def percent():
    for key in ["password", "token", "api_key"]:
        s = rnd(ALNUM, 12)
        add("kv-secret", s, "%s GET /login?%s=%s&next=/ HTTP/1.1" % (HOST, key[:4] + pct(key[4], 1) + key[5:], s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s POST body %s=%s" % (HOST, pct("password"), s))
    for scheme in ["https", "postgres", "amqp"]:
        s = rnd(ALNUM, 12)
        url = "%s://svc:%s@db.example.com/x" % (scheme, s)
        enc = url.replace(":", "%3A").replace("/", "%2F").replace("@", "%40")
        add("url-userinfo", s, "%s redirect=%s" % (HOST, enc))
    s = rnd(ALNUM, 12)
    add("url-userinfo", pct(s), "%s next=%s" % (HOST, pct("https://u:%s@host/" % s)))  # every byte encoded
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k[1:], "%s q=%%41%s" % (HOST, k[1:]))


def dotted_cards():
    for c, grp in [("4111111111111111", (4, 4, 4, 4)), ("5555555555554444", (4, 4, 4, 4)),
                   ("378282246310005", (4, 6, 5)), ("6011000990139424", (4, 4, 4, 4))]:
        parts, i = [], 0
        for g in grp:
            parts.append(c[i:i + g])
            i += g
        d = ".".join(parts)
        add("card", d, "%s customer entered %s at checkout" % (HOST, d))


def partial_leaks():
    for scheme in ["https", "ftp", "postgres"]:
        tail = rnd(ALNUM, 10)
        s = rnd(ALNUM, 4) + "@" + tail
        add("url-userinfo", tail, "%s connecting to %s://svc:%s@db.example.com/app" % (HOST, scheme, s))
    tail = rnd(ALNUM, 8)
    add("url-userinfo", tail, "%s cache=redis://:p@%s@@cache01:6379/0" % (HOST, tail))


def cut_tails():
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k[:14], "%s using key %s" % (HOST, k[:14]), "cut")
    t = "ghp_" + rnd(ALNUM, 36)
    add("github-token", t[:30], "%s git push using %s" % (HOST, t[:30]), "cut")
    s = rnd(ALNUM, 12)
    add("url-userinfo", s, "%s connecting to postgres://app:%s" % (HOST, s), "cut")
    add("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0", "%s session jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0" % HOST, "cut")
    add("card", "4111 1111 1111", "%s customer entered 4111 1111 1111" % HOST, "cut")
    add("card", "601100099013", "%s pan 601100099013" % HOST, "cut")
    t = "xoxb-" + rnd(ALNUM, 6)
    add("slack-token", t, "%s slack init %s" % (HOST, t), "cut")
    t = "AIza" + rnd(ALNUM, 20)
    add("google-api-key", t, "%s maps key %s" % (HOST, t), "cut")
    s = rnd(ALNUM, 12)
    add("auth-header", s, "%s Authorization: Basic %s" % (HOST, s), "cut")


def main():
    colon_arrow_xml()
    mysql()
    json_escapes()
    percent()
    dotted_cards()
    partial_leaks()
    cut_tails()
    write_tsv("bypass.tsv", rows, "make_bypass.py")


if __name__ == "__main__":
    main()
