#!/bin/bash
# fmt_otlp_decode.sh: the OTLP encoder's output (protobuf and OTLP/JSON, from
# tests/unit/otlp_encode, the ASan build) decoded with Python classes that Debian's protoc
# generates from the official opentelemetry-proto, every field of every record checked
# (tests/unit/fmt_otlp_decode.py says what and how).
set -eu
w="$top_builddir/tests/work/fmt_otlp_decode"
rm -rf "$w"
mkdir -p "$w"
/usr/bin/python3 "$top_srcdir/tests/unit/fmt_otlp_decode.py" "$top_builddir/tests/unit/otlp_encode" "$w"
rm -rf "$w"
