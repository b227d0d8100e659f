#!/usr/bin/env bash
# bench-engine.sh: the engine's PreAct-ResNet18 benchmarks (batch 1 latency, batch 64
# throughput) beside ONNX Runtime 1.30 on the same ONNX file with the same number of
# threads, then the ratios; peak RSS of a process that loads the model and runs batch 64
# (/usr/bin/time -v); and the engine beside stock onnx-go (gorgonnx) at batch 1 on the
# zoo's own PreAct-ResNet18 export and on the CNTK MNIST model.
#
#   scripts/bench-engine.sh            # MIN=3s BENCHTIME=3x THREADS=2 ROUNDS=3 by default
#
# In each round both sides time each batch size by the same rule: runs for at least MIN (ORT's
# -min, the engine's -test.benchtime), the mean of those runs. BENCHTIME is the count for the
# stock onnx-go comparisons, whose gorgonnx side is slow. Then PAIRS (default 40; 0 skips)
# pairs of blocks of runs with both in one process (bench/ort -paired): the machine's speed
# drifts between rounds, and the paired figures are the ones that compare like with like.
#
# THREADS is ORT's intra-op thread count and the engine's GOMAXPROCS. ONNX Runtime's
# library comes from npm's onnxruntime-node@1.30.0 (npm pack, never npm install) into
# bench/ort/lib/ (git-ignored). The model is testdata/torch/bench/preact_resnet18_full.onnx
# (git-ignored), written by testdata/torch/gen.py --bench (Debian python3-torch) when
# missing. Without PyTorch or npm the parts that need them are skipped, saying why.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-3x}
MIN=${MIN:-3s}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
ROOT=$PWD
BENCHDIR=$ROOT/testdata/torch/bench
MODEL=$BENCHDIR/preact_resnet18_full.onnx
LIBDIR=$ROOT/bench/ort/lib
LIB=$LIBDIR/libonnxruntime.so.1

skip() { echo "bench-engine: skipping $1" >&2; }

have_model=1
if [ ! -f "$MODEL" ]; then
	if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null; } 2>/dev/null || true
	fi
	if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
		/usr/bin/python3 testdata/torch/gen.py --bench "$BENCHDIR" || have_model=0
	else
		have_model=0
	fi
	[ "$have_model" = 1 ] || skip "PreAct-ResNet18 (PyTorch file): $MODEL is missing and Debian python3-torch could not write it"
fi

have_ort=$have_model
if [ "$have_ort" = 1 ] && [ ! -f "$LIB" ]; then
	if ! command -v npm >/dev/null; then
		have_ort=0
		skip "ONNX Runtime: npm is not installed, so onnxruntime-node@1.30.0 cannot be fetched"
	else
		tmp=$(mktemp -d)
		if (cd "$tmp" && npm pack --silent onnxruntime-node@1.30.0 >/dev/null &&
			tar xzf onnxruntime-node-1.30.0.tgz package/bin/napi-v6/linux/x64/libonnxruntime.so.1); then
			mkdir -p "$LIBDIR"
			mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$LIB"
		else
			have_ort=0
			skip "ONNX Runtime: npm pack onnxruntime-node@1.30.0 failed"
		fi
		rm -rf "$tmp"
	fi
fi

TIME=/usr/bin/time
if [ "$have_model" = 1 ] && [ ! -x "$TIME" ]; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; } 2>/dev/null || true
	[ -x "$TIME" ] || skip "external peak RSS: /usr/bin/time is missing (apt-get install time failed); the benchmark's own getrusage figure is shown"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$GO test -c -o "$out/engine.test" ./engine
echo "== engine (Gorgonia), GOMAXPROCS=$THREADS: stock onnx-go comparisons =="
(cd engine && GOMAXPROCS=$THREADS "$out/engine.test" -test.run '^$' \
	-test.bench 'PreActResNet18Zoo|MNIST' -test.benchtime "$BENCHTIME") | tee "$out/engine.txt"
rss=
if [ "$have_model" = 1 ] && [ -x "$TIME" ]; then
	echo "== peak RSS: load the model, run batch 64 once =="
	(cd engine && GOMAXPROCS=$THREADS ZOO_BENCH_ONNX=$MODEL "$TIME" -v "$out/engine.test" -test.run '^$' \
		-test.bench 'PreActResNet18$/^batch=64$' -test.benchtime 1x) >"$out/rss.txt" 2>&1
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out/rss.txt")
	echo "Maximum resident set size: $rss MB"
fi
# The engine and ORT run in alternating rounds; a shared machine only ever slows a run
# down, so each side's best round is its figure.
for r in $(seq "$ROUNDS"); do
	[ "$have_model" = 1 ] || break
	echo "== round $r: engine (Gorgonia), GOMAXPROCS=$THREADS =="
	(cd engine && GOMAXPROCS=$THREADS ZOO_BENCH_ONNX=$MODEL "$out/engine.test" -test.run '^$' \
		-test.bench 'PreActResNet18$' -test.benchtime "$MIN") | tee -a "$out/engine.txt"
	if [ "$have_ort" = 1 ]; then
		echo "== round $r: ONNX Runtime 1.30, $THREADS intra-op threads =="
		(cd bench/ort && $GO run . -lib "$LIB" -model "$MODEL" -threads "$THREADS" -batches 1,64 -min "$MIN" \
			-check-input "$BENCHDIR/preact_resnet18_full.input.f32" \
			-check-logits "$BENCHDIR/preact_resnet18_full.logits.f32") | tee -a "$out/ort.txt"
	fi
done

# Paired: the engine and ORT in one process, blocks of back-to-back runs in turn, so both
# sides see the same machine (bench/ort/paired.go); PAIRS=0 skips it.
paired1= paired64=
if [ "$have_ort" = 1 ] && [ "${PAIRS:-40}" -gt 0 ]; then
	for b in 1 64; do
		blk=10 np=${PAIRS:-40}
		[ "$b" = 1 ] || { blk=3 np=$(( (np + 3) / 4 )); }
		echo "== paired, batch $b: engine and ONNX Runtime in one process, $np pairs of blocks of $blk runs =="
		(cd bench/ort && GOMAXPROCS=$THREADS $GO run . -lib "$LIB" -model "$MODEL" -threads "$THREADS" -batches "$b" \
			-paired "$np" -block "$blk") | tee "$out/paired$b.txt"
	done
	paired1=$(grep '^paired-summary' "$out/paired1.txt" || true)
	paired64=$(grep '^paired-summary' "$out/paired64.txt" || true)
fi

# field() prints the smallest value before unit $3 on the lines of file $1 whose first field
# matches the regular expression $2 (a benchmark name with or without its -GOMAXPROCS).
field() { awk -v pat="$2" -v unit="$3" '$1 ~ pat { for (i = 2; i <= NF; i++) if ($(i+1) == unit && (best == "" || $i + 0 < best + 0)) best = $i } END { if (best != "") print best }' "$1"; }
ortns() { awk -v b="batch=$2" '$1 == b { sub("ns/op=", "", $3); if (best == "" || $3 + 0 < best + 0) best = $3 } END { if (best != "") print best }' "$1"; }
e1=$(field "$out/engine.txt" '^BenchmarkPreActResNet18/batch=1(-[0-9]+)?$' ns/op)
e64=$(field "$out/engine.txt" '^BenchmarkPreActResNet18/batch=64(-[0-9]+)?$' ns/op)
[ -n "$rss" ] || rss=$(field "$out/engine.txt" '^BenchmarkPreActResNet18/batch=64(-[0-9]+)?$' peakRSS-MB)
ze=$(field "$out/engine.txt" '^BenchmarkPreActResNet18Zoo/engine(-[0-9]+)?$' ns/op)
zg=$(field "$out/engine.txt" '^BenchmarkPreActResNet18Zoo/gorgonnx(-[0-9]+)?$' ns/op)
me=$(field "$out/engine.txt" '^BenchmarkMNIST/engine(-[0-9]+)?$' ns/op)
mg=$(field "$out/engine.txt" '^BenchmarkMNIST/gorgonnx(-[0-9]+)?$' ns/op)
o1= o64=
if [ "$have_ort" = 1 ]; then
	o1=$(ortns "$out/ort.txt" 1)
	o64=$(ortns "$out/ort.txt" 64)
fi
echo "== summary ($THREADS threads; PreAct-ResNet18 rows: best of $ROUNDS alternating rounds each) =="
awk -v e1="$e1" -v e64="$e64" -v o1="$o1" -v o64="$o64" -v ze="$ze" -v zg="$zg" -v me="$me" -v mg="$mg" -v rss="$rss" 'BEGIN {
	printf "%-34s %14s %14s %10s\n", "", "engine", "reference", "ratio"
	if (e1 != "" && o1 != "")
		printf "%-34s %11.2f ms %8.2f ms ORT %8.2fx %s\n", "PreAct-ResNet18 batch 1 latency", e1/1e6, o1/1e6,
			(e1 > o1 ? e1/o1 : o1/e1), (e1 > o1 ? "slower" : "faster")
	if (e64 != "" && o64 != "")
		printf "%-34s %8.1f img/s %5.1f img/s ORT %7.3fx of ORT\n", "PreAct-ResNet18 batch 64", 64e9/e64, 64e9/o64, o64/e64
	if (ze != "" && zg != "")
		printf "%-34s %11.2f ms %3.2f ms gorgonnx %7.2fx faster\n", "zoo PreAct-ResNet18 batch 1", ze/1e6, zg/1e6, zg/ze
	if (me != "" && mg != "")
		printf "%-34s %11.3f ms %3.3f ms gorgonnx %7.2fx faster\n", "CNTK MNIST batch 1", me/1e6, mg/1e6, mg/me
	if (rss != "")
		printf "%-34s %11s MB\n", "peak RSS, load + batch 64", rss
}'
# The paired rows: medians of both sides' runs, and of the ratios of paired blocks' medians.
for line in "$paired1" "$paired64"; do
	[ -n "$line" ] || continue
	echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%-34s %11.2f ms %8.2f ms ORT %8.3fx (median of paired blocks; engine faster in %s; minima %.2f / %.2f ms)\n",
			"paired, batch " v["batch"] " (median run)", v["engine_median"], v["ort_median"], v["block_ratio_median"],
			v["engine_faster_blocks"], v["engine_min"], v["ort_min"] }'
done
