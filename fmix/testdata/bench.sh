#!/usr/bin/env bash
# Benchmarks FMix mask sampling against the published numpy algorithm in one
# run: the Go benchmarks (BenchmarkCore, BenchmarkSampleMask; -benchmem shows
# the allocations per mask) and, when /usr/bin/python3 has numpy (Debian's
# python3-numpy), bench_numpy.py on the same shapes. Prints µs per mask and
# numpy/Go ratios, each side its best of three alternating rounds (the
# machine's noise only ever adds time). Usage: fmix/testdata/bench.sh [go test flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
GO="${GO:-go}"
py="${PYTHON:-/usr/bin/python3}"

gout="$(mktemp)"
nout="$(mktemp)"
trap 'rm -f "$gout" "$nout"' EXIT
havenp=""
if [ -x "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then
	havenp=1
else
	echo "bench: $py with numpy not found (apt-get install python3-numpy); Go numbers only"
fi
# Rounds alternate Go and numpy so that a slow spell of a shared machine
# hits both sides; each side keeps its best.
for round in 1 2 3; do
	"$GO" test -run '^$' -bench '^Benchmark(Core|SampleMask)$' -benchmem -benchtime 300ms "$@" ./fmix/ | tee -a "$gout"
	if [ -n "$havenp" ]; then
		"$py" fmix/testdata/bench_numpy.py 32x32 224x224 64x64x64 | tee -a "$nout"
	fi
done
np="$(awk '{ if (!($1 in c) || $2 < c[$1]) c[$1] = $2; if (!($1 in s) || $3 < s[$1]) s[$1] = $3 } END { for (k in c) print k, c[k], s[k] }' "$nout")"

echo
echo "FMix masks, µs per mask, best of 3 rounds (numpy: the published fmix.py algorithm, same run)"
awk -v np="$np" '
BEGIN {
	n = split(np, lines, "\n")
	for (i = 1; i <= n; i++) {
		split(lines[i], f, " ")
		if (f[1] != "") { core[f[1]] = f[2]; sample[f[1]] = f[3] }
	}
}
/µs\/mask/ {
	split($1, p, "/")          # BenchmarkCore/official/32x32-2
	kind = p[1]; sub(/^Benchmark/, "", kind)
	shape = p[3]; sub(/-[0-9]+$/, "", shape)
	for (i = 2; i <= NF; i++) if ($i == "µs/mask") us = $(i-1)
	key = kind "/" p[2] "/" shape
	if (!(key in goT)) { order[++m] = key; goT[key] = us }
	else if (us + 0 < goT[key] + 0) goT[key] = us
}
END {
	printf "%-28s %12s %12s %8s\n", "benchmark", "go µs", "numpy µs", "ratio"
	for (i = 1; i <= m; i++) {
		key = order[i]; split(key, k, "/")
		ref = (k[1] == "Core") ? core[k[3]] : sample[k[3]]
		if (ref != "" && k[2] == "official") printf "%-28s %12.1f %12.1f %7.1fx\n", key, goT[key], ref, ref / goT[key]
		else printf "%-28s %12.1f %12s %8s\n", key, goT[key], "-", "-"
	}
	print "(numpy implements only the official variant; isotropic is shown for reference)"
}' "$gout"
