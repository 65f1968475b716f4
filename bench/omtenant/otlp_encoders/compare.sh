#!/bin/bash
# compare.sh: "a test decides" (issue 17) between ctxlog's hand-written OTLP protobuf encoder
# (common/deliver/fmt_otlp*.c) and protobuf-c (protoc-c generating C from the official
# opentelemetry-proto): code size, CPU per record on one fixed batch, and correctness (both
# requests decoded with the official protos' Python classes must be equal, and hold every
# record). Needs protobuf-c-compiler, libprotobuf-c-dev, protobuf-compiler, python3-protobuf.
#
#   bench/omtenant/otlp_encoders/compare.sh [--records N] [--rounds R]
# Results: bench/omtenant/RESULTS.md#otlp-encoder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
records=1000 rounds=200
while [ $# -gt 0 ]; do
    case $1 in
        --records) records=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "usage: $0 [--records N] [--rounds R]" >&2; exit 2 ;;
    esac
done
proto=${CTX_OTLP_PROTO:-$top/third_party/opentelemetry-proto}
[ -f "$proto/opentelemetry/proto/logs/v1/logs.proto" ] || { echo "no opentelemetry-proto at $proto" >&2; exit 1; }
for t in protoc-c protoc gcc size; do command -v $t >/dev/null || { echo "$t missing" >&2; exit 1; }; done
w="$top/bench/work/otlp_encoders"
rm -rf "$w"
mkdir -p "$w/gen" "$w/obj"
protos="opentelemetry/proto/common/v1/common.proto opentelemetry/proto/resource/v1/resource.proto
        opentelemetry/proto/logs/v1/logs.proto opentelemetry/proto/collector/logs/v1/logs_service.proto"
(cd "$proto" && protoc-c -I. --c_out="$w/gen" $protos)
cflags="-O2 -g0 -DNDEBUG -D_GNU_SOURCE $(pkg-config --cflags libfastjson libprotobuf-c)"
inc="-DHAVE_CONFIG_H -I$top -I$top/common/base -I$top/common/deliver -I$w/gen"
hand_src=$(ls "$top"/common/deliver/fmt_otlp*.c)
gen_src=$(find "$w/gen" -name '*.pb-c.c' | sort)
for f in $hand_src $gen_src; do gcc $cflags $inc -c "$f" -o "$w/obj/$(basename "$f" .c).o"; done
# what the encoder calls outside its own files (ctx_fmt_buf_append, ...): omtenant's objects of
# the other common/ units, as `make` built them
rest=$(ls "$top"/common/*/.libs/plugins_omtenant_omtenant_la-*.o | grep -v fmt_otlp) ||
    { echo "build first: make" >&2; exit 1; }
gcc $cflags $inc -o "$w/otlp_compare" "$here/otlp_compare.c" "$w"/obj/*.o $rest \
    $(pkg-config --libs libfastjson libprotobuf-c libpcre2-8 openssl libzstd zlib libcurl) -lm -lpthread
"$w/otlp_compare" "$records" "$rounds" "$w" | tee "$w/result.txt"
text() { size "$@" | awk 'NR > 1 { t += $1 } END { print t }'; }
hand_o=$(for f in $hand_src; do echo "$w/obj/$(basename "$f" .c).o"; done)
gen_o=$(for f in $gen_src; do echo "$w/obj/$(basename "$f" .c).o"; done)
libpbc=$(ldd "$w/otlp_compare" | awk '/libprotobuf-c/ { print $3 }')
echo "code, hand-written: $(cat $hand_src | wc -l) lines of C, $(text $hand_o) bytes of machine code (-O2)"
echo "code, protobuf-c:   $(cat $gen_src $(find "$w/gen" -name '*.pb-c.h') | wc -l) generated lines + the tree builder" \
     "(~110 lines), $(text $gen_o) bytes of generated machine code + libprotobuf-c $(text "$libpbc") bytes"
/usr/bin/python3 - "$w" "$records" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", sys.argv[1] + "/../../.."), "tests", "lib"))
import otlp_proto
w, n = sys.argv[1], int(sys.argv[2])
pb = otlp_proto.load(w)
hand = otlp_proto.parse(pb, open(w + "/hand.pb", "rb").read(), False)
pbc = otlp_proto.parse(pb, open(w + "/pbc.pb", "rb").read(), False)
recs = otlp_proto.records(hand)
if len(recs) != n or hand != pbc:
    sys.exit("correctness: the two requests differ (%d records, equal: %s)" % (len(recs), hand == pbc))
print("correctness: both decode with the official protos to the same request, %d records in %d ResourceLogs"
      % (len(recs), len(hand.resource_logs)))
PY
