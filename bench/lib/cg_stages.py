#!/usr/bin/python3
"""Where the instructions of a callgrind profile go, per message.

cg_stages.py FILE MESSAGES [FUNC ...]
    FILE      a callgrind output (one dump, all threads together)
    MESSAGES  the messages the dump covers (the figures are divided by it)
    FUNC      functions whose inclusive cost is shown (name, or name=label)

Prints JSON: {"total": per-message instructions, "incl": {label: per message},
"self": {group: per message}, "allocs": allocations (malloc, calloc, realloc) per
message, "allocs_by": per message by the calling function's group, "alloc_callers": the
functions that allocate most, per message}. "self" sums the exclusive cost of every function by
where it lives: libfastjson, malloc/free (libc's allocator), zstd, TLS (libssl +
libcrypto), PCRE2, libc other, rsyslogd, each ctxlog module, other. Inclusive costs
overlap (a function inside another counts in both); self groups add up to the total.
"""
import json
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?):(\S+?)(?:'\d+)? \[(.*)\]\s*$")
MALLOC = {"malloc", "free", "realloc", "calloc", "_int_malloc", "_int_free", "_int_realloc", "malloc_consolidate",
          "cfree", "unlink_chunk", "tcache_get", "tcache_put", "__libc_malloc", "__libc_free", "__libc_calloc",
          "__libc_realloc", "_int_free_merge_chunk", "_int_free_create_chunk", "_int_free_maybe_consolidate",
          "alloc_perturb", "sysmalloc", "arena_get2", "tcache_init"}


def annotate(path, inclusive):
    args = ["callgrind_annotate", "--threshold=100", path]
    if inclusive:
        args.insert(1, "--inclusive=yes")
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    for ln in out.splitlines():
        m = LINE.match(ln)
        if m:
            yield int(m.group(1).replace(",", "")), m.group(3), m.group(4)


ALLOC = {"malloc", "calloc", "realloc", "__libc_malloc", "__libc_calloc", "__libc_realloc"}


def self_costs(path, allocs=None):
    """(exclusive cost, function, object) from the callgrind file itself: cost lines that
    do not follow a calls= line (those are the callee's inclusive cost). With a dict
    `allocs`, also counts the calls into the allocator by (caller function, object)."""
    names = {"ob": {}, "fn": {}}
    ob = fn = cfn = None
    after_call = False
    costs = {}
    with open(path) as f:
        for ln in f:
            ln = ln.rstrip("\n")
            if not ln or ln[0] == "#":
                continue
            key, eq, val = ln.partition("=")
            if eq and key in ("ob", "fn", "cob", "cfn", "cfi", "cfl", "fl", "fi", "fe", "calls"):
                if key in ("ob", "fn", "cob", "cfn"):
                    kind = "ob" if key in ("ob", "cob") else "fn"
                    m = re.match(r"\((\d+)\)(?: (.*))?", val)
                    name = val
                    if m:
                        name = m.group(2) if m.group(2) is not None else names[kind].get(m.group(1), "?")
                        names[kind][m.group(1)] = name
                    if key == "ob":
                        ob = name
                    elif key == "fn":
                        fn = name
                    elif key == "cfn":
                        cfn = name
                if key == "calls" and allocs is not None and cfn in ALLOC and fn not in ALLOC:
                    k = (fn, ob or "?")
                    allocs[k] = allocs.get(k, 0) + int(val.split()[0])
                after_call = key == "calls"
                continue
            if ln[0] in "0123456789+-*":
                tok = ln.split()
                if after_call:
                    after_call = False
                    continue
                if len(tok) > 1 and fn is not None:
                    k = (fn, ob or "?")
                    costs[k] = costs.get(k, 0) + int(tok[1])
    for (fn, ob), ir in costs.items():
        yield ir, fn, ob


def group(fn, obj):
    o = obj.rsplit("/", 1)[-1]
    if "libfastjson" in o:
        return "libfastjson"
    if o.startswith("libc.so"):
        return "malloc/free" if fn in MALLOC else "libc other"
    if "libzstd" in o or "libz.so" in o:
        return "compression (zstd, zlib)"
    if "libssl" in o or "libcrypto" in o:
        return "TLS (libssl, libcrypto)"
    if "libpcre2" in o:
        return "PCRE2 (redaction regexes)"
    if "libcurl" in o or "libnghttp2" in o:
        return "libcurl"
    if o == "rsyslogd":
        return "rsyslogd core"
    for mod in ("imctxcap", "mmctxenrich", "omtenant"):
        if mod in o:
            return mod + ".so"
    if o.startswith(("imudp", "imptcp", "imtcp", "lmnsd", "lmnet", "lmtcp", "omfwd", "imuxsock", "impstats")):
        return "rsyslog modules (" + o.split(".")[0] + ")"
    return "other"


def main():
    path, msgs = sys.argv[1], int(sys.argv[2])
    wanted = {}
    for f in sys.argv[3:]:
        name, _, label = f.partition("=")
        wanted[name] = label or name
    total, incl, selfs, allocs = 0, {}, {}, {}
    for ir, fn, obj in self_costs(path, allocs):
        selfs[group(fn, obj)] = selfs.get(group(fn, obj), 0) + ir
        total += ir
    for ir, fn, obj in annotate(path, True):
        if fn in wanted and wanted[fn] not in incl:  # the first (largest: not a recursion) line
            incl[wanted[fn]] = ir
    per = lambda v: round(v / msgs)
    by = {}
    for (fn, obj), n in allocs.items():
        by[group(fn, obj)] = by.get(group(fn, obj), 0) + n
    top = sorted(allocs.items(), key=lambda kv: -kv[1])[:12]
    print(json.dumps({"messages": msgs, "total": per(total), "incl": {k: per(incl.get(k, 0)) for k in wanted.values()},
                      "self": {k: per(v) for k, v in sorted(selfs.items(), key=lambda kv: -kv[1])},
                      "allocs": round(sum(allocs.values()) / msgs, 1),
                      "allocs_by": {k: round(v / msgs, 1) for k, v in sorted(by.items(), key=lambda kv: -kv[1])},
                      "alloc_callers": {"%s (%s)" % (f, o.rsplit("/", 1)[-1]): round(n / msgs, 2) for (f, o), n in top}}))


if __name__ == "__main__":
    main()
