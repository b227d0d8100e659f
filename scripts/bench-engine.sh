#!/usr/bin/env bash
# bench-engine.sh: the engine's PreAct-ResNet18 benchmarks (batch 1 latency, batch 64
# throughput, peak RSS) beside ONNX Runtime 1.30 on the same ONNX file, then the ratios;
# and the engine beside stock onnx-go (gorgonnx) at batch 1 on the CNTK MNIST model.
#
#   scripts/bench-engine.sh            # BENCHTIME=3x by default
#
# ONNX Runtime's library comes from npm's onnxruntime-node@1.30.0 (npm pack, never npm
# install) into bench/ort/lib/ (git-ignored). The model is testdata/torch/bench/
# preact_resnet18_full.onnx, written by testdata/torch/gen.py --bench (Debian python3-torch)
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-3x}
ROOT=$PWD
MODEL=$ROOT/testdata/torch/bench/preact_resnet18_full.onnx
LIBDIR=$ROOT/bench/ort/lib
LIB=$LIBDIR/libonnxruntime.so.1

if [ ! -f "$MODEL" ]; then
	/usr/bin/python3 -c 'import torch' 2>/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null; }
	/usr/bin/python3 testdata/torch/gen.py --bench "$(dirname "$MODEL")"
fi
if [ ! -f "$LIB" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent onnxruntime-node@1.30.0 >/dev/null &&
		tar xzf onnxruntime-node-1.30.0.tgz package/bin/napi-v6/linux/x64/libonnxruntime.so.1)
	mkdir -p "$LIBDIR"
	mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$LIB"
	rm -rf "$tmp"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== engine (Gorgonia) =="
ZOO_BENCH_ONNX=$MODEL $GO test -run '^$' -bench 'PreActResNet18|MNIST' -benchtime "$BENCHTIME" ./engine | tee "$out/engine.txt"
echo "== ONNX Runtime 1.30 =="
(cd bench/ort && ORT_LIB=$LIB ZOO_BENCH_ONNX=$MODEL $GO test -run '^$' -bench PreActResNet18 -benchtime "$BENCHTIME" .) | tee "$out/ort.txt"

# ns/op of the first benchmark line matching $2 in file $1
nsop() { awk -v pat="$2" '$1 ~ pat { for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") { print $i; exit } }' "$1"; }
metric() { awk -v pat="$2" -v unit="$3" '$1 ~ pat { for (i = 2; i <= NF; i++) if ($(i+1) == unit) { print $i; exit } }' "$1"; }
e1=$(nsop "$out/engine.txt" 'PreActResNet18/batch=1-')
e64=$(nsop "$out/engine.txt" 'PreActResNet18/batch=64-')
o1=$(nsop "$out/ort.txt" 'PreActResNet18Batch1-')
o64=$(nsop "$out/ort.txt" 'PreActResNet18Batch64-')
me=$(nsop "$out/engine.txt" 'MNIST/engine-')
mg=$(nsop "$out/engine.txt" 'MNIST/gorgonnx-')
rss=$(metric "$out/engine.txt" 'PreActResNet18/batch=64-' peakRSS-MB)
echo "== summary =="
awk -v e1="$e1" -v e64="$e64" -v o1="$o1" -v o64="$o64" -v me="$me" -v mg="$mg" -v rss="$rss" 'BEGIN {
	printf "PreAct-ResNet18 batch 1:  engine %.1f ms, ORT %.1f ms, engine/ORT time %.2fx\n", e1/1e6, o1/1e6, e1/o1
	printf "PreAct-ResNet18 batch 64: engine %.1f img/s, ORT %.1f img/s, engine/ORT throughput %.3fx\n", 64e9/e64, 64e9/o64, o64/e64
	printf "MNIST batch 1:            engine %.3f ms, gorgonnx %.3f ms, speed-up %.2fx\n", me/1e6, mg/1e6, mg/me
	printf "peak RSS (engine process, after batch 64): %s MB\n", rss
}'
