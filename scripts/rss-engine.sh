#!/usr/bin/env bash
# rss-engine.sh: peak resident set (VmHWM) of a process that loads one model and runs batch 1,
# the engine (bench/rss: hub.ReadONNX, then Run) beside ONNX Runtime 1.30 (bench/ort/rss,
# THREADS intra-op threads), for the five published architectures, and the ratio:
#
#   scripts/rss-engine.sh          # THREADS=2 ROUNDS=2 by default
#
# Each side runs ROUNDS times in turn, one process each, and its smallest peak is its figure
# (ORT's peak moves by 100 MB or more between runs of one file). RSS is not timing: a busy
# machine does not change it. The models are PyTorch 1.13 opset-13 exports with random
# weights and randomised BatchNorm (testdata/torch/gen.py's write_fixture, dynamic batch) at
# the published sizes, written under testdata/torch/bench/ (git-ignored) by Debian's
# python3-torch when missing. ONNX Runtime's library is bench/ort/lib/libonnxruntime.so.1,
# which scripts/bench-engine.sh fetches; without it only the engine's column is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
BENCHDIR=$PWD/testdata/torch/bench
LIB=$PWD/bench/ort/lib/libonnxruntime.so.1

# name arch args input-shape batch-N, one per line (scripts/archs.txt)
MODELS=$(grep -v '^#' scripts/archs.txt)

missing=$(echo "$MODELS" | awk -v d="$BENCHDIR" 'NF { f = d "/" $1 ".onnx"; if (system("test -f " f) != 0) print }')
if [ -n "$missing" ]; then
	if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
		mkdir -p "$BENCHDIR"
		echo "$missing" | /usr/bin/python3 -c '
import json, sys
sys.path.insert(0, "testdata/torch")
import gen, torch
torch.set_num_threads(2)
for line in sys.stdin:
    name, arch, args, shape = line.split()[:4]
    gen.write_fixture(sys.argv[1], name, arch, json.loads(args), tuple(int(d) for d in shape.split(",")), gen.SEED, save=False)
    print("wrote", name, flush=True)
' "$BENCHDIR"
	else
		echo "rss-engine: skipping the models PyTorch would write (Debian python3-torch is not installed):" >&2
		echo "$missing" | awk '{ print "  " $1 }' >&2
	fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$GO build -o "$out/rss" ./bench/rss
have_ort=0
if [ -f "$LIB" ]; then
	(cd bench/ort && $GO build -o "$out/rss-ort" ./rss) && have_ort=1
else
	echo "rss-engine: skipping ONNX Runtime: $LIB is missing (scripts/bench-engine.sh fetches it)" >&2
fi

# peak prints the smallest peak_rss_mb of ROUNDS runs of a command.
peak() {
	local best=
	for _ in $(seq "$ROUNDS"); do
		v=$("$@" | awk -F'peak_rss_mb=' 'NF > 1 { split($2, a, " "); print a[1] }')
		if [ -z "$best" ] || [ "$v" -lt "$best" ]; then best=$v; fi
	done
	echo "$best"
}

printf '%-22s %10s %13s %10s %7s\n' model weights engine ORT ratio
echo "$MODELS" | while read -r name _ _ shape _; do
	[ -n "$name" ] && [ -f "$BENCHDIR/$name.onnx" ] || continue
	model=$BENCHDIR/$name.onnx
	e=$(GOMAXPROCS=$THREADS peak "$out/rss" -model "$model")
	o=
	[ "$have_ort" = 1 ] && o=$(peak "$out/rss-ort" -lib "$LIB" -model "$model" -shape "$shape" -threads "$THREADS")
	w=$(( $(stat -c %s "$model") / 1000000 ))
	if [ -n "$o" ]; then
		awk -v n="$name" -v w="$w" -v e="$e" -v o="$o" 'BEGIN { printf "%-22s %7d MB %10d MB %7d MB %6.2fx\n", n, w, e, o, e / o }'
	else
		printf '%-22s %7d MB %10d MB\n' "$name" "$w" "$e"
	fi
done
