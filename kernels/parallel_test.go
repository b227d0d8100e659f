package kernels

import (
	"math"
	"math/rand"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A panic in a worker goroutine reaches the caller, which can recover it
// (the engine turns it into an error) instead of ending the process.
func TestWorkerPanicReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	assert.PanicsWithValue(t, "boom", func() {
		ParallelRange(4, 1<<20, func(lo, hi int) {
			if hi == 4 {
				panic("boom")
			}
		})
	})
	assert.PanicsWithValue(t, "boom", func() {
		parallelImages(3, func(n, _ int) {
			if n == 2 {
				panic("boom")
			}
		})
	})
}

// runWorkers from many goroutines at once, nested and not, while helpers
// spin, park and are claimed: every worker index runs exactly once per
// call.
func TestRunWorkersFromManyGoroutines(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	done := make(chan [][]int32, 8)
	for g := 0; g < 8; g++ {
		go func() {
			var counts [][]int32
			for call := 0; call < 200; call++ {
				n := 1 + call%5
				c := make([]int32, n)
				var mu sync.Mutex
				runWorkers(n, func(w int) {
					if w == 1 && call%7 == 0 {
						runWorkers(3, func(int) {}) // nested: helpers may all be busy
					}
					if call%50 == 0 {
						time.Sleep(300 * time.Microsecond) // let idle helpers park
					}
					mu.Lock()
					c[w]++
					mu.Unlock()
				})
				counts = append(counts, c)
			}
			done <- counts
		}()
	}
	for g := 0; g < 8; g++ {
		for _, c := range <-done {
			for w, v := range c {
				assert.Equal(t, int32(1), v, "worker %d of %d", w, len(c))
			}
		}
	}
}

// SetHelperSpin returns the setting it replaces, and parallel sections
// finish and cover every index whatever the spin, none included.
func TestSetHelperSpin(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	old := SetHelperSpin(0)
	defer SetHelperSpin(old)
	assert.Equal(t, DefaultHelperSpin, old, "the default before any call")
	for _, d := range []time.Duration{0, -time.Second, ServerHelperSpin, DefaultHelperSpin} {
		SetHelperSpin(d)
		assert.Equal(t, max(d, 0), spinFor())
		for range 20 {
			hits := make([]int32, 1<<16)
			ParallelRange(len(hits), len(hits), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("spin %v: index %d ran %d times", d, i, h)
				}
			}
			time.Sleep(time.Duration(rand.Intn(400)) * time.Microsecond) // helpers spinning, or parked
		}
	}
}

// TestGuidedParts checks guidedParts' bounds: from 0 to units, parts of at
// least one unit that never grow, none above a 2t-th of the whole, and few
// (a part per unit only at the end).
func TestGuidedParts(t *testing.T) {
	require.Equal(t, []int{0, 6, 10, 13, 16, 18, 19, 20, 21, 22}, guidedParts(22, 2))
	for _, threads := range []int{1, 2, 3, 8} {
		for units := 1; units <= 300; units++ {
			b := guidedParts(units, threads)
			require.Equal(t, 0, b[0])
			require.Equal(t, units, b[len(b)-1])
			for i := 1; i < len(b); i++ {
				size := b[i] - b[i-1]
				require.GreaterOrEqual(t, size, 1)
				require.LessOrEqual(t, size, max(1, (units+2*threads-1)/(2*threads)), "units %d threads %d", units, threads)
				if i > 1 {
					require.LessOrEqual(t, size, b[i-1]-b[i-2], "parts grow: units %d threads %d: %v", units, threads, b)
				}
			}
			require.LessOrEqual(t, len(b)-1, 2*threads*(1+int(math.Log2(float64(units))))+2*threads, "units %d threads %d: %v", units, threads, b)
		}
	}
}
