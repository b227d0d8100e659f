#!/usr/bin/env bash
# bench-kernels.sh: SGEMM GFLOP/s at n = 256, 512, 1024, 2048 (square, row-major) beside the
# machine's FMA peak measured in the same run (kernels.BenchmarkFMAPeak: independent
# AVX-512 FMAs on every core), and each microkernel alone on cache-resident operands.
#
#   scripts/bench-kernels.sh            # THREADS=2 BENCHTIME=1s COUNT=3 by default
#
# Each benchmark runs COUNT times, interleaved; a shared machine only ever slows a run
# down, so the summary takes each one's best run.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
THREADS=${THREADS:-2}
BENCHTIME=${BENCHTIME:-1s}
COUNT=${COUNT:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$GO test -c -o "$out/kernels.test" ./kernels
echo "== kernels, GOMAXPROCS=$THREADS =="
(cd kernels && GOMAXPROCS=$THREADS "$out/kernels.test" -test.run '^$' \
	-test.bench 'FMAPeak|Sgemm|MicroKernel/[a-z0-9]+/kc=256/' -test.benchtime "$BENCHTIME" -test.count "$COUNT") | tee "$out/k.txt"
echo "== summary ($THREADS threads) =="
awk -v t="$THREADS" '
	function gf(   i) { for (i = 2; i <= NF; i++) if ($(i+1) == "GFLOP/s") return $i; return "" }
	$1 ~ "^BenchmarkFMAPeak/threads=" t "(-[0-9]+)?$" { v = gf(); if (v > peak) peak = v }
	$1 ~ /^BenchmarkSgemm\/n=/ {
		split($1, a, /[=-]/)
		if (!(a[2] in g)) order[++cnt] = a[2]
		v = gf(); if (v > g[a[2]]) g[a[2]] = v
	}
	END {
		if (peak == "") { print "no FMA peak measured (no AVX-512 here): SGEMM figures above stand alone"; exit }
		printf "%-28s %8.1f GFLOP/s (best of the runs)\n", "FMA peak, " t " threads", peak
		for (i = 1; i <= cnt; i++)
			printf "SGEMM n=%-19s %8.1f GFLOP/s %5.1f%% of peak\n", order[i], g[order[i]], 100 * g[order[i]] / peak
	}' "$out/k.txt"
