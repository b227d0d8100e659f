package kernels

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
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
