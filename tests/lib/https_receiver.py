#!/usr/bin/python3
"""HTTPS batch receiver for omtenant's tests (tenant B's "central log server").

    https_receiver.py serve --out DIR --cert PEM --key PEM [--port N] [--port-file F]
                            [--ca PEM --require-client-cert] [--tls-max 1.1|1.2|1.3]
                            [--mode-file F] [--save-bodies] [--plain]
    https_receiver.py check --out DIR --prefix P --first A --last B [--max-dup-batches K]

--api elasticsearch|loki|splunk-hec makes it that product's ingest API (api_emul.py):
its checks, its replies, and messages.log gets the documents / entries / events it took.
With --api, --reply-file F (read on every request) makes the body of a 2xx answer hostile
while the product still takes the request: "garbage" (an HTML page), "cut" (the reply cut
in half), "fewer" (Elasticsearch: the bulk reply without its last item); batches.jsonl's
"reply" names the mode used.
serve: answers POSTs with keep-alive; decodes the body by Content-Encoding (zstd,
gzip, none) and records every request in DIR/batches.jsonl (one JSON object per
request: n, status, path, encoding, content_type, wire_bytes, bytes, messages,
headers). A 2xx batch's messages go to DIR/messages.log, one per line, prefixed
with the batch number and a tab ("12\t{...}"); NDJSON bodies give one message per
line, a JSON array one per element. --save-bodies also writes each decoded 2xx body
to DIR/bodies/NNNNNN (for compression comparisons).
The answer is 200 unless --mode-file names a file holding "CODE" or
"CODE RETRY_AFTER_SECONDS" (e.g. "400", "429 1", "500"), or "sleep SECONDS" (a slow
server: each answer, 200, comes that late): read on every request.
A body that cannot be decoded is answered with 400 and recorded as such.
--count-only (benchmarks) keeps no messages: NDJSON lines (or a JSON array's elements)
are counted and the running total of 2xx messages is kept in DIR/total.
Stop it with SIGTERM; start it again on the same --port.

check: every message containing PREFIX<n> for n in FIRST..LAST arrived (in 2xx
batches), nothing else did, in order of first arrival, and every duplicate belongs
to a batch that is a whole copy of an earlier batch; at most K such copies.
"""
import argparse
import gzip
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time

import zstandard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_emul  # noqa: E402


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "https_receiver/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _mode(self):
        path = self.server.opts.mode_file
        if not path:
            return 200, None
        try:
            parts = open(path).read().split()
        except OSError:
            return 200, None
        if not parts:
            return 200, None
        if parts[0] == "sleep":
            time.sleep(float(parts[1]))
            return 200, None
        return int(parts[0]), (parts[1] if len(parts) > 1 else None)

    def _decode(self, raw):
        enc = (self.headers.get("Content-Encoding") or "none").lower()
        if enc == "zstd":
            return enc, zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 30)
        if enc == "gzip":
            return enc, gzip.decompress(raw)
        if enc in ("none", "identity"):
            return enc, raw
        raise ValueError("unknown Content-Encoding " + enc)

    @staticmethod
    def _messages(ctype, body):
        text = body.decode("utf-8")
        if ctype.startswith("application/json"):
            return [json.dumps(m, separators=(",", ":"), ensure_ascii=False) for m in json.loads(text)]
        return [line for line in text.split("\n") if line != ""]

    def _hostile(self, status, reply):
        """--reply-file: (mode, the 2xx reply to give instead), or (None, reply)"""
        try:
            mode = open(self.server.opts.reply_file).read().strip() if self.server.opts.reply_file else ""
        except OSError:
            mode = ""
        if not mode or not 200 <= status < 300:
            return None, reply
        if mode == "garbage":
            return "reply " + mode, b"<html><body>OK</body></html>"
        if mode == "cut":
            return "reply " + mode, reply[:len(reply) // 2]
        if mode == "fewer":
            r = json.loads(reply)
            r["items"] = r["items"][:-1]
            return "reply " + mode, json.dumps(r).encode()
        raise ValueError("unknown reply mode " + mode)

    def _api(self, raw):
        """--api: the product's own checks and reply (api_emul.py)"""
        status, retry_after = self._mode()
        ctype = self.headers.get("Content-Type") or ""
        enc, body, msgs, note, reply, rtype = None, b"", [], None, b"", "text/plain"
        try:
            enc, body = self._decode(raw)
            if status < 300:
                status, reply, rtype, msgs = self.server.api.handle(self.path, self.headers, body)
                note, reply = self._hostile(status, reply)
            else:
                reply = b"refused by test mode"
        except api_emul.Refuse as e:
            status, reply, note = e.status, e.body, e.body.decode("utf-8", "replace")
        except Exception as e:  # noqa: BLE001 - an undecodable body is a 400
            status, note = 400, "undecodable body: %s" % e
            reply = note.encode()
        self.server.record(self, status, enc, ctype, raw, body, msgs, note)
        self._answer(status, rtype, reply, retry_after)

    def _answer(self, status, ctype, body, retry_after=None):
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.server.api is not None:
            return self._api(raw)
        status, retry_after = self._mode()
        ctype = self.headers.get("Content-Type") or ""
        enc, body, msgs, note = None, b"", [], None
        try:
            enc, body = self._decode(raw)
            if self.server.opts.count_only:  # NDJSON: lines; a JSON array: its elements
                msgs = len(json.loads(body)) if body[:1] == b"[" else body.count(b"\n")
            else:
                msgs = self._messages(ctype, body)
        except Exception as e:  # noqa: BLE001 - any decoding problem is a 400
            status, note = 400, "undecodable body: %s" % e
        self.server.record(self, status, enc, ctype, raw, body, msgs, note)
        answer = (note or ("ok" if status < 300 else "refused by test mode")).encode()
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class ServerBase(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The test receivers' server (this one's and tests/system/otlp_receiver.py's): a thread
    a connection, TLS with ctx (None: plain), batches numbered on from OUT/batches.jsonl."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, opts, ctx, handler):
        self.opts, self.ctx, self.lock, self.total = opts, ctx, threading.Lock(), 0
        os.makedirs(opts.out, exist_ok=True)
        path = os.path.join(opts.out, "batches.jsonl")
        self.n = sum(1 for _ in open(path)) if os.path.exists(path) else 0
        super().__init__(("127.0.0.1", opts.port), handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall between headers and body
        if self.ctx is not None:
            sock = self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):  # TLS refusals etc.: not our problem
        pass

    def add_total(self, n):  # --count-only (benchmarks): the running total in OUT/total, no per-message work
        self.total += n
        tmp = os.path.join(self.opts.out, "total.tmp")
        with open(tmp, "w") as f:
            f.write("%d\n" % self.total)
        os.rename(tmp, os.path.join(self.opts.out, "total"))


class Server(ServerBase):
    def __init__(self, opts, ctx):
        self.api = api_emul.APIS[opts.api](opts) if opts.api else None
        super().__init__(opts, ctx, Receiver)

    def record(self, h, status, enc, ctype, raw, body, msgs, note):
        with self.lock:
            self.n += 1
            nmsgs = msgs if isinstance(msgs, int) else len(msgs)
            rec = {"n": self.n, "t": round(time.time(), 4), "status": status, "path": h.path, "encoding": enc,
                   "content_type": ctype,
                   "wire_bytes": len(raw), "bytes": len(body), "messages": nmsgs,
                   "headers": {k: v for k, v in h.headers.items()}}
            if note:
                rec["note"] = note
            with open(os.path.join(self.opts.out, "batches.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
            if 200 <= status < 300 and self.opts.count_only:
                self.add_total(nmsgs)
            elif 200 <= status < 300:
                with open(os.path.join(self.opts.out, "messages.log"), "a") as f:
                    for m in msgs:
                        f.write("%d\t%s\n" % (self.n, m))
            if 200 <= status < 300 and self.opts.save_bodies:
                d = os.path.join(self.opts.out, "bodies")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, "%06d" % self.n), "wb") as f:
                    f.write(body)


def tls_context(o):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(o.cert, o.key)
    if o.tls_max:
        v = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[o.tls_max]
        if v == ssl.TLSVersion.TLSv1_1:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = v
    if o.ca:
        ctx.load_verify_locations(o.ca)
    if o.require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def run(srv):
    """Serves until SIGTERM; with --port-file, writes the port there once listening."""
    o = srv.opts
    if o.port_file:
        tmp = o.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, o.port_file)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever(poll_interval=0.05)
    srv.server_close()


def serve(o):
    run(Server(o, None if o.plain else tls_context(o)))


def check_sequence(o, order, batches, what):
    """The delivery checks of both receivers: order = [(batch, seq)] as received, batches =
    {batch: its items, comparable}. Every seq of o.first..o.last exactly once, no other; a
    repeat only as a whole earlier batch sent again (at most o.max_dup_batches of them);
    first arrivals in order. Returns (seen seqs, duplicated batches, errors)."""
    seen, dup_batches, firsts = set(), set(), []
    for b, n in order:
        if n in seen:
            dup_batches.add(b)
        else:
            seen.add(n)
            firsts.append(n)
    errors = []
    for b in sorted(dup_batches):  # a duplicate must be a whole earlier batch sent again
        if not any(batches[a] == batches[b] for a in batches if a < b):
            errors.append("batch %d repeats %s but is not a copy of an earlier batch" % (b, what))
    want = set(range(o.first, o.last + 1))
    missing, extra = sorted(want - seen), sorted(seen - want)
    if missing:
        errors.append("missing %d: %s" % (len(missing), missing[:10]))
    if extra:
        errors.append("unexpected %d: %s" % (len(extra), extra[:10]))
    if firsts != sorted(firsts):
        bad = next(i for i in range(1, len(firsts)) if firsts[i] < firsts[i - 1])
        errors.append("out of order at %d: %s" % (bad, firsts[max(0, bad - 3):bad + 2]))
    if len(dup_batches) > o.max_dup_batches:
        errors.append("%d duplicated batches, at most %d allowed" % (len(dup_batches), o.max_dup_batches))
    return seen, dup_batches, errors


def check(o):
    pat = re.compile(re.escape(o.prefix) + r"(\d+)")
    batches = {}  # n -> list of message lines
    order = []    # (batch, seq)
    path = os.path.join(o.out, "messages.log")
    for line in open(path, encoding="utf-8") if os.path.exists(path) else []:
        b, msg = line.rstrip("\n").split("\t", 1)
        batches.setdefault(int(b), []).append(msg)
        m = pat.search(msg)
        if not m:
            sys.exit("foreign message in batch %s: %.120s" % (b, msg))
        order.append((int(b), int(m.group(1))))
    seen, dup_batches, errors = check_sequence(o, order, batches, "messages")
    if errors:
        sys.exit("%s: %s" % (path, "; ".join(errors)))
    print("%d messages in %d batches, %d duplicated batches" % (len(seen), len(batches), len(dup_batches)))


def serve_parser(sub):
    """The "serve" options both receivers have."""
    s = sub.add_parser("serve")
    s.add_argument("--out", required=True)
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--ca")
    s.add_argument("--require-client-cert", action="store_true")
    s.add_argument("--tls-max", choices=["1.1", "1.2", "1.3"])
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file")
    s.add_argument("--mode-file")
    s.add_argument("--plain", action="store_true")
    s.add_argument("--count-only", action="store_true")
    s.add_argument("--reply-file")
    return s


def check_parser(sub):
    """The "check" options both receivers have."""
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--prefix", required=True)
    c.add_argument("--first", type=int, required=True)
    c.add_argument("--last", type=int, required=True)
    c.add_argument("--max-dup-batches", type=int, default=0)
    return c


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = serve_parser(sub)
    s.add_argument("--save-bodies", action="store_true")
    s.add_argument("--api", choices=sorted(api_emul.APIS))
    s.add_argument("--es-fail")
    s.add_argument("--token")
    s.add_argument("--hec-ack", action="store_true")
    check_parser(sub)
    o = ap.parse_args()
    serve(o) if o.cmd == "serve" else check(o)


if __name__ == "__main__":
    main()
