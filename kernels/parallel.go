package kernels

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of elements below which ParallelRange runs
// on the calling goroutine: smaller loops cost less than starting workers.
const minParallelWork = 1 << 15

// ParallelRange splits [0, n) into contiguous chunks, a few per processor,
// and runs f on each, the processors taking the next chunk as they finish
// one; work is the total number of elements touched, which decides
// whether splitting is worth it. Chunks are disjoint, so f may write any
// per-index state without locking.
func ParallelRange(n, work int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || work < minParallelWork {
		f(0, n)
		return
	}
	chunks := min(n, 4*workers)
	parallelFor(workers, chunks, func(_, i int) { f(n*i/chunks, n*(i+1)/chunks) })
}

// runWorkers runs f(0), …, f(t−1) concurrently and returns when all are
// done, f(0) on the calling goroutine (one goroutine fewer to start and to
// wait for: at batch 1 every layer forks). A panic in any of them is
// re-raised here, after all have finished.
func runWorkers(t int, f func(w int)) {
	if t <= 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	var wp workerPanic
	wg.Add(t - 1)
	for w := 1; w < t; w++ {
		go func() {
			defer wg.Done()
			defer wp.catch()
			f(w)
		}()
	}
	func() {
		defer wp.catch()
		f(0)
	}()
	wg.Wait()
	wp.rethrow()
}

// workerPanic carries the first panic of a set of worker goroutines back
// to the goroutine that waits for them, so that a caller which recovers
// (the engine turns a kernel's panic into an error) still can: a panic in
// a bare goroutine would end the process.
type workerPanic struct {
	mu sync.Mutex
	v  any
}

// catch is deferred by each worker.
func (p *workerPanic) catch() {
	if r := recover(); r != nil {
		p.mu.Lock()
		if p.v == nil {
			p.v = r
		}
		p.mu.Unlock()
	}
}

// rethrow is called after the workers are done.
func (p *workerPanic) rethrow() {
	if p.v != nil {
		panic(p.v)
	}
}
