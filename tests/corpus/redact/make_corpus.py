#!/usr/bin/env python3
"""Writes secrets.tsv and clean.txt beside this script (deterministic: seeded).

secrets.tsv: RULE <TAB> MODE <TAB> SECRET <TAB> LINE
  RULE   the rule that must match (its counter must grow on this line)
  MODE   text | sd | json (how the test feeds LINE to the engine)
  SECRET a string planted in LINE that must not survive redaction
clean.txt: ordinary log lines that the default rules must leave byte for byte unchanged.
The files are committed; re-run this script only to change them on purpose.
"""
import base64
import os
import random

R = random.Random(20261127)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
B64 = ALNUM + "/+"
URLSAFE = ALNUM + "-_"


def rnd(alphabet, n):
    return "".join(R.choice(alphabet) for _ in range(n))


def luhn_ok(digits):
    s = 0
    for i, d in enumerate(reversed(digits)):
        d = int(d)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        s += d
    return s % 10 == 0


def non_luhn(n, first):
    while True:
        d = first + rnd("0123456789", n - len(first))
        if not luhn_ok(d):
            return d


def b64url(obj):
    return base64.urlsafe_b64encode(obj.encode()).decode().rstrip("=")


def jwt():
    h = b64url('{"alg":"HS256","typ":"JWT"}')
    p = b64url('{"sub":"%d","name":"user%d","iat":%d}' % (R.randint(1, 10**9), R.randint(1, 999), 1700000000 + R.randint(0, 10**7)))
    return "%s.%s.%s" % (h, p, rnd(URLSAFE, 43))


HOST = "web01 app[1234]:"
rows = []


def add(rule, secret, line, mode="text"):
    assert secret in line, (rule, secret, line)
    assert "\t" not in line
    rows.append((rule, mode, secret, line))


def kv_rows():
    keys = ["password", "passwd", "pwd", "secret", "client_secret", "token", "access_token", "api_key", "apikey",
            "passphrase", "private_key", "credentials", "DB_PASSWORD", "X-Api-Key", "refresh_token", "secretKey"]
    for k in keys:
        s = rnd(ALNUM, 14) + "!"
        add("kv-secret", s, "%s user=alice %s=%s status=ok" % (HOST, k, s))
        s = rnd(ALNUM, 12)
        add("kv-secret", s, "%s login attempt %s=%s" % (HOST, k, s))  # at line end
        s = rnd(ALNUM, 10) + " " + rnd(ALNUM, 6)
        add("kv-secret", s, '%s %s="%s" retry=3' % (HOST, k, s))
        s = rnd(ALNUM, 11)
        add("kv-secret", s, "%s %s='%s' retry=3" % (HOST, k, s))
        s = rnd(ALNUM, 16)
        add("kv-secret", s, '{"level":"info","msg":"connect","%s": "%s","db":"orders"}' % (k, s))
        s = rnd(ALNUM, 9)
        add("kv-secret", s, "%s %s: %s" % (HOST, k, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '%s {"db":{"host":"10.1.2.3","password":"%s"}}' % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s exec: mysql --user root --password %s -h db" % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s exec: app --password=%s --verbose" % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s GET /login?user=bob&password=%s&next=/home HTTP/1.1" % (HOST, s))
    s = rnd(ALNUM, 10) + "%40" + rnd(ALNUM, 4)
    add("kv-secret", s, "%s POST body user=bob&password=%s&remember=1" % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s q=%%22password%%22%%3A%%22%s%%22%%2C%%22user%%22%%3A%%22bob%%22" % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, "%s redirect=/cb%%3Ftoken%%3D%s%%26state%%3Dxyz" % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '%s payload="{\\"user\\":\\"bob\\",\\"password\\":\\"%s\\"}"' % (HOST, s))
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '%s password = "%s"' % (HOST, s))
    s = 'a\\"b' + rnd(ALNUM, 8)
    add("kv-secret", s, '{"password":"%s","ok":true}' % s)
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '[auth@32473 user="bob" password="%s"]' % s, "sd")
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '<34>1 2026-11-27T06:13:44Z web01 app 1234 ID47 [auth@32473 user="bob" password="%s"] login' % s)
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '{"user":"bob","password":"%s","n":1}' % s, "json")
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '{"ctx":{"vm":{"name":"db1"},"env":{"api_key":"%s"}}}' % s, "json")
    s = str(R.randint(100000, 999999))
    add("kv-secret", s, '{"user":"bob","pin_token":%s}' % s, "json")
    s = rnd(ALNUM, 12)
    add("kv-secret", s, '[app@1 x-api-key="%s"]' % s, "sd")


def url_rows():
    for scheme, host in [("postgres", "db.internal:5432/app"), ("mysql", "10.0.0.5/app"), ("https", "repo.example.com/x"),
                         ("amqp", "mq:5672/%2f"), ("mongodb+srv", "cluster0.example.net/test")]:
        s = rnd(ALNUM, 14)
        add("url-userinfo", s, "%s connecting to %s://svc_user:%s@%s" % (HOST, scheme, s, host))
    s = rnd(ALNUM, 14)
    add("url-userinfo", s, "%s cache=redis://:%s@cache01:6379/0 ready" % (HOST, s))
    s = rnd(ALNUM, 14)
    add("url-userinfo", s, '{"dsn":"postgresql://app:%s@pg01/orders","pool":5}' % s)
    s = rnd(ALNUM, 10) + "%21" + rnd(ALNUM, 3)
    add("url-userinfo", s, "%s fetch ftp://backup:%s@ftp.example.com/dump.tgz" % (HOST, s))


def auth_rows():
    for _ in range(3):
        s = base64.b64encode(("%s:%s" % (rnd(ALNUM, 6), rnd(ALNUM, 12))).encode()).decode()
        add("auth-header", s, "%s > GET /api HTTP/1.1 Authorization: Basic %s" % (HOST, s))
    s = rnd(URLSAFE, 40)
    add("auth-header", s, "%s request headers: Authorization: Bearer %s Accept: */*" % (HOST, s))
    s = rnd(URLSAFE, 32)
    add("auth-header", s, '{"headers":{"authorization":"Bearer %s","accept":"*/*"}}' % s)
    s = rnd(ALNUM, 30)
    add("auth-header", s, "%s Proxy-Authorization: Basic %s" % (HOST, s))
    s = rnd(URLSAFE, 24) + "-" + rnd(ALNUM, 8)
    add("auth-header", s, "%s upstream rejected bearer %s (expired)" % (HOST, s))
    s = rnd(ALNUM, 28)
    add("auth-header", s, "%s authorization=Token %s" % (HOST, s))


def jwt_rows():
    t = jwt()
    add("jwt", t, "%s session established jwt=%s" % (HOST, t))
    t = jwt()
    add("jwt", t, '{"event":"login","id_token":"%s"}' % t)
    t = jwt()
    add("jwt", t, "%s GET /cb?code=abc&state=%s HTTP/1.1" % (HOST, t))
    t = jwt()
    add("jwt", t, "%s Authorization: Bearer %s" % (HOST, t))
    t = jwt()
    add("jwt", t, "%s %s" % (HOST, t))


def pem_rows():
    for kind in ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]:
        body = rnd(B64, 64)
        body2 = rnd(B64, 40)
        line = "%s loaded key: -----BEGIN %s-----\\n%s\\n%s\\n-----END %s----- done" % (HOST, kind, body, body2, kind)
        add("pem-private-key", body, line)
    body = rnd(B64, 64)
    add("pem-private-key", body, "%s -----BEGIN PRIVATE KEY----- %s" % (HOST, body))  # truncated
    body = rnd(B64, 48)
    add("pem-private-key", body, '{"key":"-----BEGIN PGP PRIVATE KEY BLOCK-----\\n\\n%s\\n-----END PGP PRIVATE KEY BLOCK-----"}' % body)


def aws_rows():
    for pfx in ["AKIA", "ASIA", "AKIA"]:
        k = pfx + rnd(UPPER, 16)
        add("aws-access-key", k, "%s AWS_ACCESS_KEY_ID=%s region=eu-west-1" % (HOST, k))
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k, '{"AccessKeyId":"%s","Expiration":"2026-11-27T08:00:00Z"}' % k)
    k = "AKIA" + rnd(UPPER, 16)
    add("aws-access-key", k, "%s using key %s." % (HOST, k))
    s = rnd(B64, 40)
    add("aws-secret-key", s, "%s aws_secret_access_key = %s" % (HOST, s))
    s = rnd(B64, 40)
    add("aws-secret-key", s, '{"AccessKeyId":"ASIA%s","SecretAccessKey":"%s"}' % (rnd(UPPER, 16), s))
    s = rnd(B64, 40)
    add("aws-secret-key", s, "%s creds AKIA%s:%s" % (HOST, rnd(UPPER, 16), s))
    s = rnd(B64, 40)
    add("aws-secret-key", s, "%s export AWS_SECRET_ACCESS_KEY=%s" % (HOST, s))


def token_rows():
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]:
        t = p + rnd(ALNUM, 36)
        add("github-token", t, "%s git push using %s for org/repo" % (HOST, t))
    t = "github_pat_" + rnd(ALNUM, 22) + "_" + rnd(ALNUM, 59)
    add("github-token", t, '{"msg":"clone","auth":"%s"}' % t)
    t = "ghs_" + rnd(ALNUM, 36)
    add("github-token", t, "%s clone https://x-access-token:%s@github.com/org/repo.git" % (HOST, t))
    for p in ["glpat-", "gldt-", "glrt-"]:
        t = p + rnd(URLSAFE, 20)
        add("gitlab-token", t, "%s runner registered with %s" % (HOST, t))
    t = "glpat-" + rnd(URLSAFE, 20)
    add("gitlab-token", t, "%s curl --header \"PRIVATE-TOKEN: %s\" https://gitlab.example.com/api/v4/projects" % (HOST, t))
    for p in ["xoxb-", "xoxp-", "xoxa-"]:
        t = p + "%d-%d-%s" % (R.randint(10**10, 10**11), R.randint(10**10, 10**11), rnd(ALNUM, 24))
        add("slack-token", t, "%s slack client init token %s" % (HOST, t))
    path = "services/T%s/B%s/%s" % (rnd(UPPER, 8), rnd(UPPER, 8), rnd(ALNUM, 24))
    add("slack-token", path, "%s posting alert to https://hooks.slack.com/%s" % (HOST, path))
    for _ in range(2):
        t = "AIza" + rnd(URLSAFE, 35)
        add("google-api-key", t, "%s GET /maps/api/geocode/json?address=x&key=%s HTTP/1.1" % (HOST, t))
    t = "ya29." + rnd(URLSAFE, 60)
    add("google-api-key", t, '{"token_type":"Bearer","access":"%s"}' % t)


CARDS = ["4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100", "378282246310005",
         "371449635398431", "6011111111111117", "6011000990139424", "3530111333300000", "30569309025904",
         "2223003122003222", "4222222222222", "6200000000000005"]


def grouped(c, sep):
    if len(c) == 15:
        return sep.join([c[:4], c[4:10], c[10:]])
    return sep.join(c[i:i + 4] for i in range(0, len(c), 4))


def card_rows():
    for i, c in enumerate(CARDS):
        assert luhn_ok(c), c
        shape = i % 6
        if shape == 0:
            add("card", c, "%s payment accepted card=%s amount=12.50" % (HOST, c))
        elif shape == 1:
            g = grouped(c, " ")
            add("card", g, "%s customer entered %s at checkout" % (HOST, g))
        elif shape == 2:
            g = grouped(c, "-")
            add("card", g, '{"pan":"%s","exp":"12/29"}' % g)
        elif shape == 3:
            add("card", c, "%s charge failed for %s." % (HOST, c))
        elif shape == 4:
            add("card", c, '[pay@32473 pan="%s" amount="10.00"]' % c, "sd")
        else:
            add("card", c, "%s card number: %s" % (HOST, c))
    add("card", "4111111111111111", '{"order":{"id":"A-1","card":4111111111111111}}', "json")


def optional_rows():
    for e in ["alice@example.com", "bob.smith+tag@mail.example.co.uk", "x_y@sub-domain.example.org"]:
        add("email", e, "%s sending receipt to %s (queued)" % (HOST, e))
    add("email", "carol@example.net", '{"to":"carol@example.net"}')
    for ip in ["192.168.1.20", "10.0.0.5", "203.0.113.7"]:
        add("ipv4", ip, "%s connection from %s port 51234" % (HOST, ip))
    for ip in ["2001:db8::1", "fe80::1ff:fe23:4567:890a", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.128"]:
        add("ipv6", ip, "%s client [%s]:443 connected" % (HOST, ip))


CLEAN = r"""Nov 27 06:13:44 web01 sshd[2211]: Accepted publickey for deploy from 10.20.30.40 port 51022 ssh2: RSA SHA256:3f9aXbC1dE2fG3hI4jK5lM6nO7pQ8rS9tU0vW1xY2z
Nov 27 06:13:45 web01 sshd[2212]: Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2
Nov 27 06:13:46 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx
Nov 27 06:13:47 web01 passwd[3001]: pam_unix(passwd:chauthtok): password changed for bob
Nov 27 06:13:48 web01 kernel: [12345.678901] EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)
Nov 27 06:13:49 web01 systemd[1]: Started Session 42 of user alice.
Nov 27 06:13:50 web01 CRON[4242]: (root) CMD (test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily ))
203.0.113.50 - - [27/Nov/2026:06:13:51 +0000] "GET /api/v2/orders/1234567890123456?expand=items HTTP/1.1" 200 5123 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"
203.0.113.51 - - [27/Nov/2026:06:13:52 +0000] "POST /api/v2/login HTTP/1.1" 401 87 "-" "curl/7.88.1"
{"ts":"2026-11-27T06:13:53.123456Z","level":"info","msg":"order created","order_id":"ORD-2026-000123","amount":"129.99","currency":"EUR"}
{"ts":1795760033123,"level":"debug","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
{"ts":"2026-11-27T06:13:54Z","request_id":"550e8400-e29b-41d4-a716-446655440000","user_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}
app[991]: processed batch 1795760034 size=512 duration_ms=37 checksum=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
app[991]: commit 3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f deployed version 2.14.3 (build 20261127.1)
app[991]: invoice 4111111111111112 paid, ref 5555555555554440, account 1234567812345678
app[991]: order numbers 6011111111111118 and 3782822463100051 shipped
app[991]: tracking 1Z999AA10123456784 carrier=ups weight=2.5kg
app[991]: epoch_ms=1795760034123 epoch_ns=1795760034123456789 seq=000000000123456
app[991]: phone +1-555-010-9999 ext 1234 fax 555 010 9998
app[991]: token validation succeeded for client web-frontend
app[991]: password reset requested for user bob (email sent)
app[991]: max_tokens=4096 tokens_used=1234 token_count=17
app[991]: password_policy=strong password_min_length=12 secret_rotation_days=90
app[991]: Basic authentication is disabled; use bearer tokens instead
app[991]: Authorization header missing
app[991]: loaded 17 keys from /etc/app/keys.d, key id 2f1e3d4c
app[991]: cache hit ratio 0.9534 over 1000000 requests, p99=12.5ms
app[991]: version 10.2.3.4 of libfoo, api v1.2.3, node 18.17.1
app[991]: GET https://api.example.com/v1/users?page=2&per_page=50 took 123ms
app[991]: connected to postgres://db.internal:5432/app as app_user
app[991]: listening on [::]:8080 and 0.0.0.0:8080
app[991]: std::vector<int> size 3, Foo::Bar::baz called, a::b
app[991]: mac 00:1a:2b:3c:4d:5e link up, speed 10000Mb/s, time 10:23:45.123
app[991]: uuid 123e4567-e89b-12d3-a456-426614174000 ok; md5 d41d8cd98f00b204e9800998ecf8427e
app[991]: git sha 0123456789abcdef0123456789abcdef01234567 base64 aGVsbG8gd29ybGQ=
app[991]: eyes on the prize; AKIA is a prefix; ghp is a word; xox marks the spot
app[991]: 2026-11-27 06:13:55,123 INFO [main] o.a.k.c.c.ConsumerConfig - ConsumerConfig values: group.id = orders
app[991]: disk /dev/sda1 95% used, inode 1234567/2345678
app[991]: user alice logged in from 192.0.2.44 via ssh (session 98765)
app[991]: secrets manager rotated 3 secrets in 1.2s
app[991]: payment of 1234.56 EUR for order 2026112700001234 accepted
app[991]: IBAN check skipped; amount 4,111,111,111,111 too large
app[991]: key=value pairs: region=eu-west-1 zone=b retries=3 timeout=30s
app[991]: https://example.com/path@v2/resource and user@ in text
postfix/smtpd[1234]: connect from mail.example.com[198.51.100.7]
postfix/qmgr[1235]: 4F2A11C0E45: removed
haproxy[77]: 198.51.100.23:54321 [27/Nov/2026:06:13:56.789] fe_http be_app/srv1 0/0/1/12/13 200 1234 - - ---- 10/10/2/1/0 0/0 "GET /health HTTP/1.1"
kubelet[555]: I1127 06:13:57.123456 555 kuberuntime_manager.go:1234] "Creating container" pod="default/web-7d4b9c8f6d-x2x4z" containerID="containerd://4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"
dockerd[600]: time="2026-11-27T06:13:58.000000000Z" level=info msg="Container 4b5c6d7e8f9a failed health check" module=libcontainerd
nginx[700]: 2026/11/27 06:13:59 [error] 700#700: *1234 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 198.51.100.8, server: shop.example.com
app[991]: temperature 23.5C humidity 45% pressure 1013.25hPa
app[991]: build id 4d5e6f70-8192-4a3b-bc4d-5e6f708192a3 artifact sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12
app[991]: ratio 3.1415926535897932384 iterations 1000000000000"""


def write_tsv(name, rows, script):
    """name beside this script: a header naming script, then RULE MODE SECRET LINE a row
    (also make_bypass.py's); returns the directory"""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, name), "w") as f:
        f.write("# RULE\tMODE\tSECRET\tLINE  (generated by %s)\n" % script)
        for r in rows:
            f.write("\t".join(r) + "\n")
    return here


def main():
    kv_rows()
    url_rows()
    auth_rows()
    jwt_rows()
    pem_rows()
    aws_rows()
    token_rows()
    card_rows()
    optional_rows()
    here = write_tsv("secrets.tsv", rows, "make_corpus.py")
    with open(os.path.join(here, "clean.txt"), "w") as f:
        f.write(CLEAN + "\n")
    for c in ["4111111111111112", "5555555555554440", "1234567812345678", "6011111111111118", "3782822463100051",
              "2026112700001234"]:
        assert not luhn_ok(c) or c.startswith(("1", "7", "8", "9")), c


if __name__ == "__main__":
    main()
