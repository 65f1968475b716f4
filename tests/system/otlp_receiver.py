#!/usr/bin/python3
"""OTLP/HTTP logs receiver for the tests (a tenant's OpenTelemetry Collector).

    otlp_receiver.py serve --out DIR --cert PEM --key PEM [--port N] [--port-file F] [--plain]
                           [--mode-file F] [--reject-marker TEXT] [--reply-file F] [--count-only]
    otlp_receiver.py check --out DIR --prefix P --first A --last B [--resource-key K]
                           [--max-dup-batches K]

serve: takes POST /v1/logs as a collector's otlphttp receiver does: Content-Type
application/x-protobuf or application/json (anything else: 415), Content-Encoding gzip,
zstd or none (anything else: 400), another path: 404. The body is decoded with the Python
classes Debian's protoc generates from the official opentelemetry-proto
(tests/lib/otlp_proto.py, generated into DIR/otlp_py), so a body the official schema does
not accept is answered 400 and recorded as such. Each request is one line of
DIR/batches.jsonl (n, status, path, content_type, encoding, wire_bytes, bytes, records,
resources, rejected, note); each LogRecord of a 2xx request one line of DIR/records.jsonl:
{"batch", "resource_index", "resource": {attributes}, "scope", "time", "observed",
"severity_number", "severity_text", "body", "attributes", "rejected"} (bytes values as
base64 text). The answer is an ExportLogsServiceResponse in the request's encoding: empty,
or, with --reject-marker, partial_success naming how many records had TEXT in their body
(those are recorded with "rejected": true). --mode-file works as https_receiver.py's
("503 1", "sleep 2", ...). --reply-file F, read on every request, makes the body of a 2xx answer
hostile: "garbage" (an HTML page, as a proxy in front of a collector might give), "cut" (the
real response cut in half, or one byte that is not a message), or "warning TEXT" (partial_success
with 0 rejected and TEXT: a server's warning); the records still count as taken (batches.jsonl
"reply" says which answer was given). --count-only (benchmarks) decodes and counts but keeps no
records: the running total of records in 2xx requests is DIR/total. Stop it with SIGTERM;
start it again on the same --port.

check: every record whose body holds PREFIX<n>, n in FIRST..LAST, arrived and was not
rejected, nothing else did, in order of first arrival; duplicates only as a whole batch
sent again (at most K such); with --resource-key, no batch has two ResourceLogs with the
same value of that resource attribute (one ResourceLogs per VM per batch).
"""
import argparse
import base64
import http.server
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import https_receiver  # noqa: E402  (TLS context, test modes and Content-Encoding, shared)
import otlp_proto  # noqa: E402

CTYPES = {"application/x-protobuf": False, "application/json": True}


def jsonable(v):
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return v


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlp_receiver/1"
    _mode = https_receiver.Receiver._mode
    _decode = https_receiver.Receiver._decode

    def log_message(self, fmt, *args):  # quiet
        pass

    _answer = https_receiver.Receiver._answer

    def _response(self, as_json, rejected, note):
        pb = self.server.pb
        resp = pb.ExportLogsServiceResponse()
        if rejected:
            resp.partial_success.rejected_log_records = rejected
            resp.partial_success.error_message = note
        if as_json:
            from google.protobuf import json_format
            return json_format.MessageToJson(resp).encode()
        return resp.SerializeToString()

    def _hostile(self, as_json, good):
        """--reply-file: the 2xx body to give instead of good (None: give good)"""
        try:
            mode = open(self.server.opts.reply_file).read().strip() if self.server.opts.reply_file else ""
        except OSError:
            mode = ""
        if mode == "garbage":
            return mode, b"<html><body>OK</body></html>"
        if mode == "cut":
            return mode, good[:len(good) // 2] if len(good) > 1 else (b"{" if as_json else b"\xff")
        if mode.startswith("warning "):
            resp = self.server.pb.ExportLogsServiceResponse()
            resp.partial_success.error_message = mode[8:]
            if as_json:
                from google.protobuf import json_format
                return mode, json_format.MessageToJson(resp).encode()
            return mode, resp.SerializeToString()
        return None, good

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        status, retry_after = self._mode()
        rec = {"path": self.path, "content_type": ctype, "encoding": None, "wire_bytes": len(raw), "bytes": 0,
               "records": 0, "resources": 0, "rejected": 0}
        recs = []
        if self.path != "/v1/logs":
            status, rec["note"] = 404, "not /v1/logs"
        elif ctype not in CTYPES:
            status, rec["note"] = 415, "unsupported Content-Type " + ctype
        elif 200 <= status < 300:
            try:
                rec["encoding"], body = self._decode(raw)
                rec["bytes"] = len(body)
                req = otlp_proto.parse(self.server.pb, body, CTYPES[ctype])
                if self.server.opts.count_only:
                    rec["records"] = sum(len(sl.log_records) for rl in req.resource_logs for sl in rl.scope_logs)
                else:
                    recs = otlp_proto.records(req)
                    rec["records"] = len(recs)
                rec["resources"] = len(req.resource_logs)
            except Exception as e:  # noqa: BLE001 - what the schema refuses is a 400
                status, rec["note"] = 400, "undecodable body: %s" % e
        marker = self.server.opts.reject_marker
        for r in recs:
            r["rejected"] = bool(marker) and isinstance(r["body"], str) and marker in r["body"]
            rec["rejected"] += r["rejected"]
        if 200 <= status < 300:
            note = "%d records carry the reject marker" % rec["rejected"]
            rec["reply"], body = self._hostile(CTYPES[ctype], self._response(CTYPES[ctype], rec["rejected"], note))
            self.server.record(status, rec, recs)
            self._answer(status, ctype, body)
        else:
            self.server.record(status, rec, [])
            self._answer(status, "text/plain", (rec.get("note") or "refused by test mode").encode(), retry_after)


class Server(https_receiver.ServerBase):
    def __init__(self, opts, ctx):
        super().__init__(opts, ctx, Handler)
        self.pb = otlp_proto.load(opts.out)

    def record(self, status, rec, recs):
        with self.lock:
            self.n += 1
            rec = dict(rec, n=self.n, status=status)
            if self.opts.count_only and 200 <= status < 300:
                self.add_total(rec["records"])
            with open(os.path.join(self.opts.out, "records.jsonl"), "a") as f:
                for r in recs:
                    f.write(json.dumps(jsonable(dict(r, batch=self.n)), ensure_ascii=False) + "\n")
            with open(os.path.join(self.opts.out, "batches.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")


def serve(o):
    https_receiver.run(Server(o, None if o.plain else https_receiver.tls_context(o)))


def check(o):
    pat = re.compile(re.escape(o.prefix) + r"(\d+)")
    path = os.path.join(o.out, "records.jsonl")
    batches, order, errors = {}, [], []
    for line in open(path, encoding="utf-8") if os.path.exists(path) else []:
        r = json.loads(line)
        batches.setdefault(r["batch"], []).append(r)
        m = pat.search(r["body"]) if isinstance(r["body"], str) else None
        if not m:
            sys.exit("foreign record in batch %d: %.120r" % (r["batch"], r["body"]))
        if r["rejected"]:
            errors.append("record %s was rejected" % m.group(1))
        order.append((r["batch"], int(m.group(1))))
    bodies = {b: [r["body"] for r in rs] for b, rs in batches.items()}
    seen, dups, more = https_receiver.check_sequence(o, order, bodies, "records")
    errors += more
    if o.resource_key:
        for b, rs in batches.items():
            per = {}
            for r in rs:
                per.setdefault(r["resource_index"], r["resource"].get(o.resource_key))
            vals = list(per.values())
            if len(vals) != len(set(map(json.dumps, vals))):
                errors.append("batch %d: %s in more than one ResourceLogs: %s" % (b, o.resource_key, vals))
    if errors:
        sys.exit("%s: %s" % (path, "; ".join(errors)))
    print("%d records in %d batches, %d duplicated batches" % (len(seen), len(batches), len(dups)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    https_receiver.serve_parser(sub).add_argument("--reject-marker")
    https_receiver.check_parser(sub).add_argument("--resource-key")
    o = ap.parse_args()
    serve(o) if o.cmd == "serve" else check(o)


if __name__ == "__main__":
    main()
