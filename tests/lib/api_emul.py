"""What the real products check of a request, for https_receiver.py --api (omtenant's
tests). Each handler takes the request (path, headers, decoded body) and returns
(status, reply body bytes, reply content type, messages): the messages it accepted, one
JSON text each, for messages.log. A request the product would refuse raises Refuse.

elasticsearch  POST /<index>/_bulk, NDJSON, ending in "\n"; pairs of action + document
               lines; the action {"create":{}} (data streams take only "create"); a
               document is an object; a data stream ("logs-*") needs "@timestamp".
               Reply: the bulk reply with one item per document. --es-fail FILE (JSON
               {"429": [TOKENS], "400": [TOKENS]}) fails the items whose "message" holds
               a token: 429 once per item (the retry succeeds), 400 every time.
loki           POST /loki/api/v1/push, application/json, X-Scope-OrgID required
               (multi-tenant Loki); {"streams":[{"stream":{labels},"values":[[ts,line,
               {metadata}?]]}]}; label names [a-zA-Z_][a-zA-Z0-9_]*, values strings; ts a
               string of decimal ns; metadata values strings; an entry more than an hour
               older than the newest of its stream is refused ("entry too far behind",
               Loki's rule with unordered writes). Whether a push's entries were sorted
               per stream (what omtenant promises) is recorded with each entry
               ("sorted": true / false) for the test to check. Reply 204.
splunk-hec     POST /services/collector/event, "Authorization: Splunk <token>" (--token);
               a stream of JSON event objects; "event" required and not empty; "time"
               a number; host/source/sourcetype/index strings; "fields" flat (string
               or array of strings values). Reply {"text":"Success","code":0}.
               --hec-ack: the token uses indexer acknowledgement: X-Splunk-Request-Channel
               required ({"text":"Data channel is missing","code":10}), replies carry
               "ackId", POST /services/collector/ack?channel=C {"acks":[ids]} answers
               {"acks":{"id":bool}}: false at an id's first poll, true from the second.
"""
import json
import re


class Refuse(Exception):
    def __init__(self, status, body):
        super().__init__(body)
        self.status, self.body = status, body


ES_NAME = re.compile(r'^[^A-Z\\/*?"<>| ,#:%+_-][^A-Z\\/*?"<>| ,#:%]{0,254}$')
LABEL = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*$')


def _json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        raise Refuse(400, json.dumps({"error": "%s is not JSON: %s" % (what, e)}))


class Elasticsearch:
    def __init__(self, opts):
        self.fail = {"429": [], "400": []}
        if opts.es_fail:
            self.fail.update(json.load(open(opts.es_fail)))
        self.failed_once = set()

    def _item(self, index, doc):
        msg = doc.get("message", "")
        for tok in self.fail["400"]:
            if tok in msg:
                return {"create": {"_index": index, "status": 400, "error": {
                    "type": "mapper_parsing_exception", "reason": "failed to parse field [message] (%s)" % tok}}}
        for tok in self.fail["429"]:
            if tok in msg and tok not in self.failed_once:
                self.failed_once.add(tok)
                return {"create": {"_index": index, "status": 429, "error": {
                    "type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}}}
        return {"create": {"_index": index, "_id": "x", "_version": 1, "result": "created", "status": 201}}

    def handle(self, path, headers, body):
        m = re.match(r"^/([^/]+)/_bulk$", path)
        if not m or not ES_NAME.match(m.group(1)):
            raise Refuse(400, b'{"error":"no handler for ' + path.encode() + b'"}')
        index = m.group(1)
        ctype = headers.get("Content-Type", "")
        if not (ctype.startswith("application/x-ndjson") or ctype.startswith("application/json")):
            raise Refuse(406, b'{"error":"Content-Type header [' + ctype.encode() + b'] is not supported"}')
        text = body.decode("utf-8")
        if not text.endswith("\n"):
            raise Refuse(400, b'{"error":"The bulk request must be terminated by a newline [\\\\n]"}')
        lines = text[:-1].split("\n")
        if len(lines) % 2:
            raise Refuse(400, b'{"error":"Validation Failed: action without a document"}')
        items, accepted = [], []
        for i in range(0, len(lines), 2):
            action, doc = _json(lines[i], "an action line"), _json(lines[i + 1], "a document")
            if action != {"create": {}}:
                raise Refuse(400, json.dumps({"error": "unexpected action %r" % action}).encode())
            if not isinstance(doc, dict):
                raise Refuse(400, b'{"error":"a document must be an object"}')
            if index.startswith("logs-") and not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
                                                          str(doc.get("@timestamp", ""))):
                raise Refuse(400, b'{"error":"data stream documents need a valid @timestamp"}')
            item = self._item(index, doc)
            items.append(item)
            if item["create"]["status"] == 201:
                accepted.append(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
        errors = any(it["create"]["status"] != 201 for it in items)
        reply = json.dumps({"took": 1, "errors": errors, "items": items}).encode()
        return 200, reply, "application/json", accepted


class Loki:
    def __init__(self, opts):
        self.last = {}  # (org, stream labels) -> last accepted ts

    def handle(self, path, headers, body):
        if path != "/loki/api/v1/push":
            raise Refuse(404, b"404 page not found")
        if not headers.get("Content-Type", "").startswith("application/json"):
            raise Refuse(415, b"unsupported content type")
        org = headers.get("X-Scope-OrgID")
        if not org:
            raise Refuse(401, b"no org id")
        req = _json(body.decode("utf-8"), "the push request")
        if not isinstance(req, dict) or not isinstance(req.get("streams"), list):
            raise Refuse(400, b"expected {\"streams\": [...]}")
        out = []
        for s in req["streams"]:
            labels = s.get("stream")
            if not isinstance(labels, dict) or not labels:
                raise Refuse(400, b"error at least one label pair is required per stream")
            for k, v in labels.items():
                if not LABEL.match(k) or not isinstance(v, str):
                    raise Refuse(400, ("invalid label %r=%r" % (k, v)).encode())
            key = (org, json.dumps(labels, sort_keys=True))
            newest, prev, entries = self.last.get(key, 0), 0, []
            for v in s.get("values", []):
                if not isinstance(v, list) or len(v) not in (2, 3) or not isinstance(v[0], str) or \
                        not v[0].isdigit() or not isinstance(v[1], str):
                    raise Refuse(400, ("invalid entry %r" % (v,)).encode())
                meta = v[2] if len(v) == 3 else {}
                if not isinstance(meta, dict) or not all(isinstance(x, str) for x in meta.values()):
                    raise Refuse(400, b"structured metadata values must be strings")
                ts = int(v[0])
                if ts < newest - 3600 * 10**9:
                    raise Refuse(400, ("entry too far behind for stream %s" % key[1]).encode())
                entries.append((ts, v[1], meta, ts >= prev))
                prev, newest = ts, max(newest, ts)
            srt = all(e[3] for e in entries)
            for ts, line, meta, _ in entries:
                out.append(json.dumps({"org": org, "labels": labels, "ts": str(ts), "line": line, "meta": meta,
                                       "sorted": srt}, separators=(",", ":"), ensure_ascii=False))
            self.last[key] = newest
        return 204, b"", "text/plain", out


class SplunkHec:
    def __init__(self, opts):
        self.token = opts.token
        self.ack = opts.hec_ack
        self.next_id, self.polls = {}, {}  # channel -> next ackId; (channel, id) -> polls so far

    def _ack(self, path, headers, body, err):
        m = re.match(r"^/services/collector/ack\?channel=([0-9a-fA-F-]{36})$", path)
        if not m or m.group(1) != headers.get("X-Splunk-Request-Channel"):
            raise err(400, 10, "Data channel is missing")
        req = _json(body.decode("utf-8"), "the ack request")
        ch, out = m.group(1), {}
        for i in req.get("acks", []) if isinstance(req, dict) else []:
            if not isinstance(i, int) or i >= self.next_id.get(ch, 0):
                raise err(400, 6, "Invalid data format")
            self.polls[(ch, i)] = self.polls.get((ch, i), 0) + 1
            out[str(i)] = self.polls[(ch, i)] >= 2
        return 200, json.dumps({"acks": out}).encode(), "application/json", []

    def handle(self, path, headers, body):
        def err(status, code, text, **more):
            return Refuse(status, json.dumps(dict({"text": text, "code": code}, **more)).encode())
        auth = headers.get("Authorization", "")
        if self.ack and path.startswith("/services/collector/ack"):
            if auth != "Splunk " + self.token:
                raise err(403, 4, "Invalid token")
            return self._ack(path, headers, body, err)
        if path != "/services/collector/event":
            raise err(404, 404, "The requested URL was not found on this server.")
        if not auth.startswith("Splunk "):
            raise err(401, 2, "Token is required")
        if auth[7:] != self.token:
            raise err(403, 4, "Invalid token")
        text, pos, n, out, dec = body.decode("utf-8"), 0, 0, [], json.JSONDecoder()
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos == len(text):
                break
            try:
                ev, pos = dec.raw_decode(text, pos)
            except ValueError:
                raise err(400, 6, "Invalid data format", **{"invalid-event-number": n})
            if not isinstance(ev, dict) or ev.get("event") in (None, "", {}):
                raise err(400, 12, "Event field is required", **{"invalid-event-number": n})
            if "time" in ev and not isinstance(ev["time"], (int, float)):
                raise err(400, 6, "Invalid data format", **{"invalid-event-number": n})
            for k in ("host", "source", "sourcetype", "index"):
                if k in ev and not isinstance(ev[k], str):
                    raise err(400, 6, "Invalid data format", **{"invalid-event-number": n})
            for k, v in ev.get("fields", {}).items():
                if not (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))):
                    raise err(400, 15, "Error in handling indexed fields", **{"invalid-event-number": n})
            out.append(json.dumps(ev, separators=(",", ":"), ensure_ascii=False))
            n += 1
        if n == 0:
            raise err(400, 5, "No data")
        if not self.ack:
            return 200, b'{"text":"Success","code":0}', "application/json", out
        ch = headers.get("X-Splunk-Request-Channel")
        if not ch:
            raise err(400, 10, "Data channel is missing")
        i = self.next_id.get(ch, 0)
        self.next_id[ch] = i + 1
        return 200, json.dumps({"text": "Success", "code": 0, "ackId": i}).encode(), "application/json", out


APIS = {"elasticsearch": Elasticsearch, "loki": Loki, "splunk-hec": SplunkHec}
