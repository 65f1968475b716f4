#!/usr/bin/env python3
"""Write a realistic syslog mix (one message per line) for the redaction benchmark.

usage: gen_logmix.py OUT [MEGABYTES]   (default 16 MB; deterministic: seeded)
Mix by lines: 22% nginx access, 18% JSON app logs, 12% sshd/sudo/pam, 10% kernel/systemd,
10% kubelet/dockerd, 8% haproxy, 6% postfix, 13% key=value app logs, 1% lines with a planted
secret (password=, Bearer, JWT, AWS key, card, URL user-info).
"""
import random
import sys

R = random.Random(42)
AL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"


def s(al, n):
    return "".join(R.choice(al) for _ in range(n))


def ip():
    return "%d.%d.%d.%d" % (R.choice([10, 172, 192, 203, 198]), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))


def ts():
    return "Nov 27 %02d:%02d:%02d" % (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))


def iso():
    return "2026-11-27T%02d:%02d:%02d.%06dZ" % (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999999))


PATHS = ["/api/v2/orders", "/api/v2/users", "/static/app.js", "/health", "/api/v2/cart/items", "/login", "/search"]
UAS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
       "curl/7.88.1", "Go-http-client/1.1", "python-requests/2.31.0"]


def nginx():
    return '%s - - [27/Nov/2026:%02d:%02d:%02d +0000] "%s %s/%d?page=%d HTTP/1.1" %d %d "https://shop.example.com/" "%s"' % (
        ip(), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.choice(["GET", "GET", "POST"]), R.choice(PATHS),
        R.randint(1, 10**6), R.randint(1, 20), R.choice([200, 200, 200, 304, 404, 500]), R.randint(100, 90000), R.choice(UAS))


def jsonapp():
    return ('{"ts":"%s","level":"%s","logger":"com.example.orders.Service","msg":"%s","order_id":"ORD-%d",'
            '"request_id":"%s-%s-4%s-a%s-%s","duration_ms":%d,"user_id":%d}') % (
        iso(), R.choice(["info", "info", "debug", "warn"]), R.choice(["order created", "payment captured", "cart updated",
                                                                     "inventory reserved"]),
        R.randint(10**9, 10**10), s(HEX, 8), s(HEX, 4), s(HEX, 3), s(HEX, 3), s(HEX, 12), R.randint(1, 900), R.randint(1, 10**6))


def auth():
    c = R.randint(0, 3)
    if c == 0:
        return "%s web01 sshd[%d]: Accepted publickey for deploy from %s port %d ssh2: RSA SHA256:%s" % (
            ts(), R.randint(100, 99999), ip(), R.randint(1024, 65535), s(AL, 43))
    if c == 1:
        return "%s web01 sshd[%d]: Failed password for invalid user %s from %s port %d ssh2" % (
            ts(), R.randint(100, 99999), R.choice(["admin", "oracle", "test", "ubuntu"]), ip(), R.randint(1024, 65535))
    if c == 2:
        return "%s web01 sudo:    alice : TTY=pts/%d ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart %s" % (
            ts(), R.randint(0, 9), R.choice(["nginx", "app", "postgresql"]))
    return "%s web01 sshd[%d]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)" % (
        ts(), R.randint(100, 99999))


def system():
    if R.random() < 0.5:
        return "%s web01 kernel: [%d.%06d] IPv4: martian source %s from %s, on dev eth0" % (
            ts(), R.randint(1, 10**6), R.randint(0, 999999), ip(), ip())
    return "%s web01 systemd[1]: Started Session %d of user %s." % (ts(), R.randint(1, 9999), R.choice(["alice", "bob"]))


def k8s():
    if R.random() < 0.5:
        return ('%s node3 kubelet[555]: I1127 %02d:%02d:%02d.%06d 555 kuberuntime_manager.go:%d] "Creating container" '
                'pod="default/web-%s-%s" containerID="containerd://%s"') % (
            ts(), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999999), R.randint(100, 999),
            s("abcdef0123456789", 10), s("abcdefghijklmnopqrstuvwxyz0123456789", 5), s(HEX, 64))
    return '%s node3 dockerd[600]: time="%s" level=info msg="Container %s health check ok" module=libcontainerd' % (
        ts(), iso(), s(HEX, 12))


def haproxy():
    return ('%s lb1 haproxy[77]: %s:%d [27/Nov/2026:%02d:%02d:%02d.%03d] fe_http be_app/srv%d 0/0/1/%d/%d 200 %d - - ---- '
            '%d/%d/2/1/0 0/0 "GET %s HTTP/1.1"') % (
        ts(), ip(), R.randint(1024, 65535), R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999),
        R.randint(1, 4), R.randint(1, 90), R.randint(1, 99), R.randint(100, 9000), R.randint(1, 99), R.randint(1, 99),
        R.choice(PATHS))


def postfix():
    q = s("0123456789ABCDEF", 11)
    c = R.randint(0, 2)
    if c == 0:
        return "%s mx1 postfix/smtpd[%d]: connect from mail%d.example.com[%s]" % (ts(), R.randint(100, 9999), R.randint(1, 9), ip())
    if c == 1:
        return "%s mx1 postfix/qmgr[%d]: %s: from=<noreply@example.com>, size=%d, nrcpt=1 (queue active)" % (
            ts(), R.randint(100, 9999), q, R.randint(1000, 90000))
    return "%s mx1 postfix/smtp[%d]: %s: to=<user%d@example.org>, relay=mx.example.org[%s]:25, delay=0.%d, status=sent (250 OK)" % (
        ts(), R.randint(100, 9999), q, R.randint(1, 999), ip(), R.randint(1, 99))


def kvapp():
    return "%s app01 orders[%d]: level=info method=%s path=%s status=%d bytes=%d duration=%dms trace_id=%s client=%s" % (
        ts(), R.randint(100, 9999), R.choice(["GET", "POST"]), R.choice(PATHS), R.choice([200, 201, 404]),
        R.randint(10, 90000), R.randint(1, 900), s(HEX, 32), ip())


def secret():
    c = R.randint(0, 5)
    if c == 0:
        return "%s app01 api[12]: login user=bob password=%s ok" % (ts(), s(AL, 12))
    if c == 1:
        return "%s app01 api[12]: upstream headers Authorization: Bearer %s" % (ts(), s(AL, 40))
    if c == 2:
        return "%s app01 api[12]: token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx%s.%s" % (ts(), s(AL, 20), s(AL, 43))
    if c == 3:
        return "%s app01 api[12]: AWS_ACCESS_KEY_ID=AKIA%s" % (ts(), s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
    if c == 4:
        return "%s app01 pay[12]: card=4111111111111111 amount=12.50" % ts()
    return "%s app01 db[12]: connecting postgres://app:%s@db01:5432/orders" % (ts(), s(AL, 14))


MIX = [(nginx, 22), (jsonapp, 18), (auth, 12), (system, 10), (k8s, 10), (haproxy, 8), (postfix, 6), (kvapp, 13), (secret, 1)]


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):  # not a file name: say how, write nothing
        sys.exit(__doc__.strip())
    out = sys.argv[1]
    mb = float(sys.argv[2]) if len(sys.argv) > 2 else 16
    gens = [g for g, w in MIX for _ in range(w)]
    n = 0
    with open(out, "w") as f:
        while n < mb * 1e6:
            line = R.choice(gens)() + "\n"
            f.write(line)
            n += len(line)


if __name__ == "__main__":
    main()
