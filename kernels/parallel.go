package kernels

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of elements below which ParallelRange runs
// on the calling goroutine: smaller loops cost less than starting workers.
const minParallelWork = 1 << 15

// ParallelRange splits [0, n) into contiguous chunks, one per processor,
// and runs f on each; work is the total number of elements touched, which
// decides whether splitting is worth it. Chunks are disjoint, so f may
// write any per-index state without locking.
func ParallelRange(n, work int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || work < minParallelWork {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
