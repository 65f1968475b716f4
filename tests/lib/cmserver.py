#!/usr/bin/python3
"""A test compute manager for mmctxenrich's system tests and benchmark.

An HTTP or HTTPS server (threaded) that answers GET requests from a routes file,
counts every request, and misbehaves on command.

  cmserver.py mkca DIR
      makes DIR/ca.pem (a test CA), DIR/server.pem + DIR/server.key (for 127.0.0.1
      and localhost, signed by it) and DIR/other-ca.pem (a CA that did not sign it)
  cmserver.py serve --port-file F [--port P] [--routes FILE] [--tls-cert C --tls-key K]
                    [--token T] [--log FILE]
      serves until killed; writes its port to F once it listens. --port 0 (default)
      picks a free port; give the old port to come back on it after a restart.
  cmserver.py ctl BASEURL [--cafile C] key=value ...
      sets the behaviour (POST /_ctl/mode), e.g. mode=hang, mode=fail status=503
  cmserver.py counts BASEURL [--cafile C]
      prints the counters (GET /_ctl/counts) as JSON

Routes file: {"/servers/{id}": <reply>, "/os-hypervisors/{id}": <reply>, ...}. A route
written with a query string ("/servers/detail?host=h1") matches that exact request; other
patterns match a path (query string ignored) segment by segment; {id} matches one
segment and every "{id}" inside the reply's strings is replaced by it. A reply
{"_status": 404} answers that status instead. Unknown paths get 404.

Behaviour (ctl keys):
  mode=ok         answer from the routes (default)
  mode=delay      wait delay=<s> seconds, then answer
  mode=hang       accept, read the request, never answer (until the mode changes)
  mode=fail       status=<code> (default 500) [retry_after=<s>]
  mode=garbage    200 with binary bytes     mode=html       200 with an HTML page
  mode=truncated  200 with a cut JSON body  mode=huge       200 with 3 MB of JSON
  mode=wrongtype  the normal reply with every string value replaced by [1]
  mode=reset      close the connection without a reply
  only=<text>     the mode applies only to paths containing <text>; others get mode=ok
  revoke=keystone|vcenter   forget every token / session issued so far (then mode=ok)
Counters: total, per path, per route pattern, per answer kind; the last
Authorization header seen; "logins" (per kind: ok, refused, bad), "unauthorized" (GETs
answered 401 per kind), "headers" (per path prefix /servers, /os-hypervisors: how many
GETs carried each value of OpenStack-API-Version, "-" when absent).

Logins (serve --keystone USER:PASSWORD[:PROJECT] | --appcred ID:SECRET, --vcenter USER:PASSWORD,
--token-ttl S): with them, GETs need what each vendor's API needs, and get the vendor's 401
without it:
  - OpenStack Keystone v3, POST /v3/auth/tokens (Identity API v3 reference, "Password
    authentication with scoped authorization" and "Authenticating with an Application
    Credential"): body {"auth": {"identity": {"methods": ["password"], "password": {"user":
    {"name", "domain": {"name"}, "password"}}}, "scope": {"project": {"name", "domain":
    {"name"}}}}} or methods ["application_credential"] with {"id", "secret"}; answer 201
    Created, the token in the X-Subject-Token header, body {"token": {"expires_at",
    "issued_at", "methods", "user", "project"}} (expires_at ISO 8601 UTC, microseconds,
    "Z"); wrong credentials: 401 {"error": {"code": 401, "message": "The request you have
    made requires authentication.", "title": "Unauthorized"}}. Nova's paths (/servers,
    /os-hypervisors) then need "X-Auth-Token: <token>" (a token past expires_at is refused).
  - vSphere Automation API, POST /api/session (CIS session create: "exchanges user
    credentials supplied in the security context [HTTP basic] for a session token";
    "for REST API calls the HTTP vmware-api-session-id header field should be used"):
    201 with the session id as a JSON string; wrong credentials: 401 {"error_type":
    "UNAUTHENTICATED", "messages": [{"args": [], "default_message": "Authentication
    required.", "id": "com.vmware.vapi.endpoint.method.authentication.required"}]}.
    vCenter's paths (/api/vcenter, /sdk/vim25) then need "vmware-api-session-id: <id>"
    (the VI/JSON API of 8.0 U1 accepts the same session header). DELETE /api/session
    with that header ends the session: 204, counted in "logouts".
"""
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

STATE = {"mode": "ok", "delay": 0.0, "status": 500, "retry_after": None, "only": None}
COUNTS = {"total": 0, "paths": {}, "routes": {}, "answers": {}, "auth": None,
          "logins": {"keystone": {"ok": 0, "refused": 0, "bad": 0}, "vcenter": {"ok": 0, "refused": 0, "bad": 0}},
          "unauthorized": {"keystone": 0, "vcenter": 0}, "headers": {}}
CREDS = {"keystone": None, "appcred": None, "vcenter": None, "ttl": 3600.0}
TOKENS = {"keystone": {}, "vcenter": {}}  # token -> expiry (time.time()), None = no expiry
KEYSTONE_401 = {"error": {"code": 401, "message": "The request you have made requires authentication.",
                          "title": "Unauthorized"}}
VCENTER_401 = {"error_type": "UNAUTHENTICATED", "messages": [
    {"args": [], "default_message": "Authentication required.",
     "id": "com.vmware.vapi.endpoint.method.authentication.required"}]}
LOCK = threading.Lock()
ROUTES = {}
TOKEN = None
LOGF = None


def match(path):
    if "?" in path and path in ROUTES:  # a route written with its query string wins
        return path, ROUTES[path], None
    segs = path.split("?", 1)[0].strip("/").split("/")
    # literal patterns before those with {id}: /servers/detail wins over /servers/{id}
    for pat, reply in sorted(ROUTES.items(), key=lambda kv: kv[0].count("{id}")):
        psegs = pat.strip("/").split("/")
        if len(psegs) != len(segs):
            continue
        ident = None
        for p, s in zip(psegs, segs):
            if p == "{id}":
                ident = urllib.request.unquote(s)
            elif p != s:
                break
        else:
            return pat, reply, ident
    return None, None, None


def subst(obj, ident):
    if isinstance(obj, str):
        return obj.replace("{id}", ident) if ident is not None else obj
    if isinstance(obj, list):
        return [subst(x, ident) for x in obj]
    if isinstance(obj, dict):
        return {k: subst(v, ident) for k, v in obj.items()}
    return obj


def wrong_types(obj):
    if isinstance(obj, str):
        return [1]
    if isinstance(obj, list):
        return [wrong_types(x) for x in obj]
    if isinstance(obj, dict):
        return {k: wrong_types(v) for k, v in obj.items()}
    return obj


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if LOGF:
            with LOCK:
                LOGF.write("%.3f %s %s\n" % (time.time(), self.client_address[0], fmt % args))
                LOGF.flush()

    def send(self, status, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def count(self, pat, answer):
        with LOCK:
            COUNTS["total"] += 1
            COUNTS["paths"][self.path] = COUNTS["paths"].get(self.path, 0) + 1
            key = pat or "(none)"
            COUNTS["routes"][key] = COUNTS["routes"].get(key, 0) + 1
            COUNTS["answers"][answer] = COUNTS["answers"].get(answer, 0) + 1
            COUNTS["auth"] = self.headers.get("Authorization")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        if self.path.split("?", 1)[0] == "/v3/auth/tokens":
            return self.keystone_login(raw)
        if self.path == "/api/session":
            return self.vcenter_login()
        if self.path != "/_ctl/mode":
            return self.send(404, "{}")
        req = json.loads(raw or b"{}")
        with LOCK:
            kind = req.pop("revoke", None)
            if kind:
                TOKENS[kind].clear()
            STATE.update({"mode": "ok", "delay": 0.0, "status": 500, "retry_after": None, "only": None})
            STATE.update(req)
            body = json.dumps(STATE)
        self.send(200, body)

    def do_DELETE(self):
        """vSphere Automation API DELETE /api/session: ends the session of the
        vmware-api-session-id header (204), 401 without a valid one."""
        if self.path != "/api/session":
            return self.send(404, "{}")
        sid = self.headers.get("vmware-api-session-id")
        with LOCK:
            ok = sid is not None and TOKENS["vcenter"].pop(sid, 0) != 0
            COUNTS["logouts"] = COUNTS.get("logouts", 0) + (1 if ok else 0)
        if not ok:
            return self.send(401, json.dumps(VCENTER_401))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def login_count(self, kind, what):
        with LOCK:
            COUNTS["logins"][kind][what] += 1

    def keystone_login(self, raw):
        try:
            auth = json.loads(raw)["auth"]
            ident = auth["identity"]
            methods = ident["methods"]
            if methods == ["password"]:
                u = ident["password"]["user"]
                got = (u["name"], u["password"], u["domain"]["name"])
                want = CREDS["keystone"]
                ok = want is not None and got == (want[0], want[1], "Default")
                if ok and want[2] is not None:
                    proj = auth["scope"]["project"]
                    ok = proj["name"] == want[2] and proj["domain"]["name"] == "Default"
            elif methods == ["application_credential"]:
                ac = ident["application_credential"]
                ok = CREDS["appcred"] is not None and (ac["id"], ac["secret"]) == CREDS["appcred"]
            else:
                raise KeyError("methods")
        except (KeyError, TypeError, ValueError):
            self.login_count("keystone", "bad")
            return self.send(400, json.dumps({"error": {"code": 400, "message": "Invalid input for field 'identity'",
                                                        "title": "Bad Request"}}))
        if not ok:
            self.login_count("keystone", "refused")
            return self.send(401, json.dumps(KEYSTONE_401))
        token = os.urandom(16).hex()
        now = time.time()
        exp = now + CREDS["ttl"]
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)
        with LOCK:
            TOKENS["keystone"][token] = exp
        self.login_count("keystone", "ok")
        self.send(201, json.dumps({"token": {"methods": methods, "expires_at": iso(exp), "issued_at": iso(now),
                                             "user": {"id": "u1", "name": "ctxlog", "domain": {"id": "default",
                                                                                                "name": "Default"}},
                                             "audit_ids": ["a1"]}}), extra={"X-Subject-Token": token})

    def vcenter_login(self):
        import base64
        h = self.headers.get("Authorization", "")
        try:
            user, pw = base64.b64decode(h[6:]).decode().split(":", 1) if h.startswith("Basic ") else (None, None)
        except (ValueError, UnicodeDecodeError):
            user, pw = None, None
        if CREDS["vcenter"] is None or (user, pw) != CREDS["vcenter"]:
            self.login_count("vcenter", "refused")
            return self.send(401, json.dumps(VCENTER_401))
        sid = os.urandom(16).hex()
        with LOCK:
            TOKENS["vcenter"][sid] = None
        self.login_count("vcenter", "ok")
        self.send(201, json.dumps(sid))

    def authorized(self):
        """None if the GET may go on, else the 401 it gets (the kind's own body)."""
        path = self.path[5:] if self.path.startswith("/v2.1/") else self.path  # Nova's endpoint may carry /v2.1
        kind = ("keystone" if path.startswith(("/servers", "/os-hypervisors")) and
                (CREDS["keystone"] or CREDS["appcred"]) else
                "vcenter" if path.startswith(("/api/", "/sdk/")) and CREDS["vcenter"] else None)
        if kind is None:
            return None
        if kind == "keystone":
            with LOCK:
                pfx = "/" + path.split("?")[0].split("/")[1]
                d = COUNTS["headers"].setdefault(pfx, {})
                v = self.headers.get("OpenStack-API-Version", "-")
                d[v] = d.get(v, 0) + 1
        tok = self.headers.get("X-Auth-Token" if kind == "keystone" else "vmware-api-session-id")
        with LOCK:
            exp = TOKENS[kind].get(tok, 0) if tok else 0
            ok = exp is None or exp > time.time()
            if not ok:
                COUNTS["unauthorized"][kind] += 1
        return None if ok else (kind, KEYSTONE_401 if kind == "keystone" else VCENTER_401)

    def do_GET(self):
        if self.path == "/_ctl/counts":
            with LOCK:
                body = json.dumps(COUNTS)
            return self.send(200, body)
        with LOCK:
            st = dict(STATE)
        mode = st["mode"]
        if st["only"] and st["only"] not in self.path:
            mode = "ok"
        pat, reply, ident = match(self.path)
        self.count(pat, mode)
        if TOKEN is not None and self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.send(401, '{"error": "unauthorized"}')
        denied = self.authorized()
        if denied:
            return self.send(401, json.dumps(denied[1]))
        if mode == "hang":
            return self.hang()
        if mode == "reset":
            self.close_connection = True
            return
        if mode == "delay":
            time.sleep(float(st["delay"]))
        if mode == "fail":
            extra = {"Retry-After": str(st["retry_after"])} if st["retry_after"] is not None else None
            return self.send(int(st["status"]), '{"error": "injected failure"}', extra=extra)
        if mode in ("garbage", "html", "truncated", "huge"):
            return self.misbehave(mode)
        if reply is None:
            return self.send(404, '{"itemNotFound": {"code": 404}}')
        if isinstance(reply, dict) and "_status" in reply:
            return self.send(int(reply["_status"]), '{"error": "route status"}')
        body = subst(reply, ident)
        if mode == "wrongtype":
            body = wrong_types(body)
        self.send(200, json.dumps(body))

    def hang(self):
        deadline = time.time() + 600
        while time.time() < deadline:
            with LOCK:
                if STATE["mode"] != "hang":
                    break
            time.sleep(0.05)
        self.close_connection = True

    def misbehave(self, mode):
        if mode == "garbage":
            self.send(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2)
        elif mode == "html":
            self.send(200, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif mode == "truncated":
            self.send(200, '{"server": {"id": "x", "metadata": {"os_distro": "deb')
        else:
            self.send(200, json.dumps({"pad": "x" * (3 << 20)}))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that gave up (timeout, TLS verification failure): one line, no traceback
        if LOGF:
            with LOCK:
                LOGF.write("%.3f %s connection error: %s\n" % (time.time(), client_address[0], sys.exc_info()[1]))
                LOGF.flush()


def serve(args):
    global ROUTES, TOKEN, LOGF
    opts = {"--port": "0", "--routes": None, "--tls-cert": None, "--tls-key": None, "--token": None,
            "--log": None, "--port-file": None, "--keystone": None, "--appcred": None, "--vcenter": None,
            "--token-ttl": "3600"}
    it = iter(args)
    for a in it:
        opts[a] = next(it)
    if opts["--routes"]:
        ROUTES = json.load(open(opts["--routes"]))
    TOKEN = opts["--token"]
    if opts["--keystone"]:
        k = opts["--keystone"].split(":")
        CREDS["keystone"] = (k[0], k[1], k[2] if len(k) > 2 else None)
    if opts["--appcred"]:
        CREDS["appcred"] = tuple(opts["--appcred"].split(":", 1))
    if opts["--vcenter"]:
        CREDS["vcenter"] = tuple(opts["--vcenter"].split(":", 1))
    CREDS["ttl"] = float(opts["--token-ttl"])
    if opts["--log"]:
        LOGF = open(opts["--log"], "a")
    srv = Server(("127.0.0.1", int(opts["--port"])), Handler)
    if opts["--tls-cert"]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts["--tls-cert"], opts["--tls-key"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    tmp = opts["--port-file"] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, opts["--port-file"])
    srv.serve_forever()


def opener(args):
    cafile = None
    if len(args) > 1 and args[1] == "--cafile":
        cafile = args[2]
        del args[1:3]
    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    return args, ctx


def ctl(args):
    args, ctx = opener(args)
    body = {}
    for kv in args[1:]:
        k, v = kv.split("=", 1)
        body[k] = v
    req = urllib.request.Request(args[0] + "/_ctl/mode", data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, context=ctx, timeout=10).read()


def counts(args):
    args, ctx = opener(args)
    print(urllib.request.urlopen(args[0] + "/_ctl/counts", context=ctx, timeout=10).read().decode())


def mkca(d):
    def run(*cmd):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for ca in ("ca", "other-ca"):
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ctxlog test " + ca,
            "-keyout", f"{d}/{ca}.key", "-out", f"{d}/{ca}.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f"{d}/server.key",
        "-out", f"{d}/server.csr")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", f"{d}/ext.cnf", "-out", f"{d}/server.pem")


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    {"serve": serve, "ctl": ctl, "counts": counts, "mkca": lambda a: mkca(a[0])}[cmd](rest)
