"""otlp_proto: the official OTLP logs protos as Python classes, generated at test time by
Debian's protoc (protobuf-compiler) from opentelemetry-proto, and what the OTLP tests share
to read a decoded request.

    import otlp_proto
    pb = otlp_proto.load(workdir)          # protoc --python_out=workdir/otlp_py, then import
    req = otlp_proto.parse(pb, body, json_mapping)   # ExportLogsServiceRequest
    for rec in otlp_proto.records(req): ...          # flat dicts, see records()

The protos come from $CTX_OTLP_PROTO, else the copy in third_party/opentelemetry-proto of
the source tree (official files, unchanged; tests fail, they do not skip, when neither exists).
"""
import importlib
import os
import subprocess
import sys

PROTOS = ["opentelemetry/proto/common/v1/common.proto",
          "opentelemetry/proto/resource/v1/resource.proto",
          "opentelemetry/proto/logs/v1/logs.proto",
          "opentelemetry/proto/collector/logs/v1/logs_service.proto"]


def proto_dir():
    d = os.environ.get("CTX_OTLP_PROTO")
    if not d:
        src = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        d = os.path.join(src, "third_party", "opentelemetry-proto")
    d = os.path.abspath(d)
    if not os.path.exists(os.path.join(d, PROTOS[-1])):
        sys.exit("otlp_proto: no opentelemetry-proto at %s (set CTX_OTLP_PROTO)" % d)
    return d


def load(workdir):
    """generates the classes into workdir/otlp_py (once) and returns the logs_service module"""
    out = os.path.join(workdir, "otlp_py")
    if not os.path.exists(os.path.join(out, "opentelemetry/proto/collector/logs/v1/logs_service_pb2.py")):
        os.makedirs(out, exist_ok=True)
        src = proto_dir()
        subprocess.run(["protoc", "-I", src, "--python_out=" + out] + [os.path.join(src, p) for p in PROTOS],
                       check=True)
    if out not in sys.path:
        sys.path.insert(0, out)
    return importlib.import_module("opentelemetry.proto.collector.logs.v1.logs_service_pb2")


def parse(pb, body, json_mapping):
    """an ExportLogsServiceRequest from a body (raises on any error)"""
    req = pb.ExportLogsServiceRequest()
    if json_mapping:
        from google.protobuf import json_format
        json_format.Parse(body.decode("utf-8"), req)
    else:
        req.ParseFromString(body)
    return req


def value(av):
    """an AnyValue as a Python value (kvlist: dict; array: list; unset: None)"""
    kind = av.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value(v) for v in av.array_value.values]
    if kind == "kvlist_value":
        return attrs(av.kvlist_value.values)
    return getattr(av, kind)


def attrs(kvs):
    """KeyValues as a dict; a repeated key is an error (OTLP: keys are unique)"""
    d = {}
    for kv in kvs:
        if kv.key in d:
            raise ValueError("repeated attribute key %r" % kv.key)
        d[kv.key] = value(kv.value)
    return d


def records(req):
    """every LogRecord as a dict: resource (its attributes), resource_index, scope, time,
    observed, severity_number, severity_text, body, attributes"""
    out = []
    for ri, rl in enumerate(req.resource_logs):
        res = attrs(rl.resource.attributes)
        for sl in rl.scope_logs:
            for lr in sl.log_records:
                out.append({"resource": res, "resource_index": ri,
                            "scope": [sl.scope.name, sl.scope.version],
                            "time": lr.time_unix_nano, "observed": lr.observed_time_unix_nano,
                            "severity_number": lr.severity_number, "severity_text": lr.severity_text,
                            "body": value(lr.body), "attributes": attrs(lr.attributes)})
    return out
