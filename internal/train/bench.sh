#!/usr/bin/env bash
# Training throughput of zoo (Go) against PyTorch on the same step:
# PreAct-ResNet18, 32x32x3, batch 128, SGD, 2 threads each.
#   internal/train/bench.sh            # BENCH_STEPS=5 BENCH_THREADS=2 by default
# PyTorch is Debian's python3-torch at /usr/bin/python3 (installed with apt-get when missing).
# Prints both rates and the ratio go/torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${BENCH_THREADS:-2}"
echo "== training: PreAct-ResNet18 32x32x3, batch 128, SGD, $threads threads each =="
go_rate="$(GOMAXPROCS="$threads" go test -run '^$' -bench '^BenchmarkTrainThroughput$' -benchtime "${BENCH_STEPS:-5}x" ./internal/train/ \
	| awk '/BenchmarkTrainThroughput/ { for (i = 1; i <= NF; i++) if ($(i) == "img/s") print $(i-1) }')"
echo "go_img_per_s    $go_rate"
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; } 2>/dev/null || true
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "bench.sh: skipping PyTorch: Debian python3-torch is not installed and could not be" >&2
	exit 0
fi
torch_rate="$(BENCH_THREADS="$threads" BENCH_STEPS="${BENCH_STEPS:-5}" /usr/bin/python3 internal/train/bench_torch.py | awk '{print $2}')"
echo "torch_img_per_s $torch_rate"
awk -v g="$go_rate" -v t="$torch_rate" 'BEGIN { printf "ratio go/torch  %.3f\n", g / t }'
