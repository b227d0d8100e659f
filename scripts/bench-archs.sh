#!/usr/bin/env bash
# bench-archs.sh: the engine beside ONNX Runtime 1.30 on the five published architectures
# (scripts/archs.txt: PreAct-ResNet18, PyramidNet-272 α200, WRN-28-10 and DenseNet-BC-190 at
# 3×32×32, ResNet-101 at 3×224×224), batch 1 latency and batch-N throughput, paired, then peak
# RSS of a process that loads the model and runs batch 1 (scripts/rss-engine.sh), one table:
#
#   scripts/bench-archs.sh        # THREADS=2 PAIRS1=16 PAIRSN=6 by default
#
# Timing is bench/ort -paired: the engine and ORT in one process, blocks of back-to-back runs
# in turn (which side goes first alternating), so both see the same machine; each block starts
# with an untimed run and ends with a pause for ORT's spinning workers. A row's ratio is ORT's
# time over the engine's: 1 / the median over paired blocks of (engine block median / ORT block
# median) — above 1 the engine is faster — and "won" counts the blocks the engine was faster
# in. Batch 1 runs PAIRS1 pairs of blocks of 5 runs; batch N, PAIRSN pairs of blocks of 2.
# THREADS is ORT's intra-op thread count and the engine's GOMAXPROCS.
#
# The models are random-weight PyTorch 1.13 exports (dynamic batch) under testdata/torch/bench/
# (git-ignored), written by scripts/rss-engine.sh with Debian's python3-torch when missing;
# ONNX Runtime's library comes from scripts/bench-engine.sh (npm pack onnxruntime-node@1.30.0).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
THREADS=${THREADS:-2}
PAIRS1=${PAIRS1:-16}
PAIRSN=${PAIRSN:-6}
BENCHDIR=$PWD/testdata/torch/bench
LIB=$PWD/bench/ort/lib/libonnxruntime.so.1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "== peak RSS: load the model, run batch 1 (scripts/rss-engine.sh) =="
GO=$GO THREADS=$THREADS ./scripts/rss-engine.sh | tee "$out/rss.txt"
if [ ! -f "$LIB" ]; then
	echo "bench-archs: skipping the timings: $LIB is missing (scripts/bench-engine.sh fetches it)" >&2
	exit 0
fi
(cd bench/ort && $GO build -o "$out/ort" .)

grep -v '^#' scripts/archs.txt | while read -r name _ _ shape batchn; do
	[ -n "$name" ] || continue
	model=$BENCHDIR/$name.onnx
	if [ ! -f "$model" ]; then
		echo "bench-archs: skipping $name: $model is missing" >&2
		continue
	fi
	for b in 1 "$batchn"; do
		np=$PAIRS1 blk=5
		[ "$b" = 1 ] || { np=$PAIRSN blk=2; }
		echo "== $name batch $b: $np pairs of blocks of $blk runs =="
		GOMAXPROCS=$THREADS "$out/ort" -lib "$LIB" -model "$model" -shape "$shape" -threads "$THREADS" \
			-batches "$b" -paired "$np" -block "$blk" | tee "$out/$name.$b.txt"
		grep '^paired-summary' "$out/$name.$b.txt" | sed "s/^paired-summary/$name/" >>"$out/summary.txt"
	done
done

echo "== summary: $(lscpu | sed -n 's/^Model name: *//p'), $THREADS threads; ratio = ORT time / engine time, median of paired blocks (> 1: the engine is faster) =="
printf '%-22s %5s %12s %12s %8s %6s %13s %13s\n' model batch "engine ms" "ORT ms" ratio won "engine best" "ORT best"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%-22s %5s %12.2f %12.2f %7.2fx %6s %10.2f ms %10.2f ms\n", $1, v["batch"], v["engine_median"], v["ort_median"],
		1 / v["block_ratio_median"], v["engine_faster_blocks"], v["engine_min"], v["ort_min"] }' "$out/summary.txt"
echo "(engine ms / ORT ms: the medians of all timed runs; batch N rows are per batch, not per image)"
echo "== peak RSS, load + batch 1 =="
sed -n '/^model /,$p' "$out/rss.txt"
