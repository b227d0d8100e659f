#!/usr/bin/env bash
# Training throughput of zoo (Go) against PyTorch on the same step:
# PreAct-ResNet18, 32x32x3, batch 128, SGD, 2 threads each.
#   internal/train/bench.sh            # needs Debian python3-torch at /usr/bin/python3 (apt-get install python3-torch)
# Prints both rates and the ratio go/torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${BENCH_THREADS:-2}"
go_rate="$(GOMAXPROCS="$threads" go test -run '^$' -bench '^BenchmarkTrainThroughput$' -benchtime "${BENCH_STEPS:-5}x" ./internal/train/ \
	| awk '/BenchmarkTrainThroughput/ { for (i = 1; i <= NF; i++) if ($(i) == "img/s") print $(i-1) }')"
torch_rate="$(BENCH_THREADS="$threads" /usr/bin/python3 internal/train/bench_torch.py | awk '{print $2}')"
echo "go_img_per_s    $go_rate"
echo "torch_img_per_s $torch_rate"
awk -v g="$go_rate" -v t="$torch_rate" 'BEGIN { printf "ratio go/torch  %.3f\n", g / t }'
