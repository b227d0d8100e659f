#!/usr/bin/env bash
# Training throughput of zoo (Go) against PyTorch on the same step:
# PreAct-ResNet18, 32x32x3, batch 128, SGD, 2 threads each.
#   internal/train/bench.sh            # BENCH_STEPS=5 BENCH_THREADS=2 BENCH_ROUNDS=3 by default
# PyTorch is Debian's python3-torch at /usr/bin/python3 (installed with apt-get when missing).
# The two run in alternating rounds; a shared machine only ever slows a run down, so each
# side's best round is its figure, and the ratio is of the bests (every round is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${BENCH_THREADS:-2}"
steps="${BENCH_STEPS:-5}"
rounds="${BENCH_ROUNDS:-3}"
echo "== training: PreAct-ResNet18 32x32x3, batch 128, SGD, $threads threads each, $rounds rounds of $steps steps =="
have_torch=1
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null; } 2>/dev/null || true
fi
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "bench.sh: skipping PyTorch: Debian python3-torch is not installed and could not be" >&2
	have_torch=0
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/train.test" ./internal/train/
go_best=0 torch_best=0
for r in $(seq "$rounds"); do
	g="$(cd internal/train && GOMAXPROCS="$threads" "$bin/train.test" -test.run '^$' -test.bench '^BenchmarkTrainThroughput$' -test.benchtime "${steps}x" \
		| awk '/BenchmarkTrainThroughput/ { for (i = 1; i <= NF; i++) if ($(i) == "img/s") print $(i-1) }')"
	line="round $r: go_img_per_s $g"
	go_best=$(awk -v a="$go_best" -v b="$g" 'BEGIN { print (b > a ? b : a) }')
	if [ "$have_torch" = 1 ]; then
		t="$(BENCH_THREADS="$threads" BENCH_STEPS="$steps" /usr/bin/python3 internal/train/bench_torch.py | awk '{print $2}')"
		line="$line torch_img_per_s $t"
		torch_best=$(awk -v a="$torch_best" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
	fi
	echo "$line"
done
echo "go_img_per_s    $go_best (best of $rounds)"
[ "$have_torch" = 1 ] || exit 0
echo "torch_img_per_s $torch_best (best of $rounds)"
awk -v g="$go_best" -v t="$torch_best" 'BEGIN { printf "ratio go/torch  %.3f\n", g / t }'
