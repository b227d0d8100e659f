package testutil

import (
	"math"
	"os"
	"runtime"
	"testing"
)

// Need stops the test when something it needs from the test environment
// (a tool or data set scripts/install-test-deps.sh installs) is missing,
// err saying what: it skips outside CI, and fails under CI (CI set), where
// the script must have run.
func Need(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("under CI: %v", err)
	}
	t.Skipf("%v (run scripts/install-test-deps.sh)", err)
}

// NeedFile is Need for a file or directory at path.
func NeedFile(t testing.TB, path string) {
	t.Helper()
	_, err := os.Stat(path)
	Need(t, err)
}

// Allocated runs f and returns the bytes it allocated on the heap.
// TotalAlloc only grows, so this bounds f's peak from above.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// LeastAllocated runs f runs times and returns the least it allocated in
// one run: other goroutines' allocations only add to a run's count.
func LeastAllocated(runs int, f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range runs {
		least = min(least, Allocated(f))
	}
	return least
}
