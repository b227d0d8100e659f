package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
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
// done, f(0) on the calling goroutine and the others on pool helpers (or
// new goroutines when none is free). A panic in any of them is re-raised
// here, after all have finished.
func runWorkers(t int, f func(w int)) {
	if t <= 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	var wp workerPanic
	var left atomic.Int32
	left.Store(int32(t - 1))
	wg.Add(t - 1)
	for w := 1; w < t; w++ {
		dispatch(func() {
			defer wg.Done()
			defer left.Add(-1)
			defer wp.catch()
			f(w)
		})
	}
	func() {
		defer wp.catch()
		f(0)
	}()
	// Spin while the others finish, for a while: a goroutine blocked in
	// Wait is woken by the scheduler, which costs what starting one does.
	// Yielding now and then lets a task that found no helper (and waits
	// in this processor's queue) run here.
	start := time.Now()
	for i := 1; spinHelpers && left.Load() > 0; i++ {
		spinPause()
		if i%64 == 0 {
			if time.Since(start) > spinFor() {
				break
			}
			runtime.Gosched()
		}
	}
	wg.Wait()
	wp.rethrow()
}

// Helpers: goroutines that, after a task, spin for a while before they
// park. Starting a goroutine on an idle core costs a wake-up of its
// thread: 40 µs at the median (100 µs at p99) on the 2-core VM this was
// tuned on, measured from the go statement to the goroutine's first
// instruction; at batch 1 every layer forks, some several times, and
// waits for the late worker. A helper spinning since the last fork starts
// within microseconds.

// helperSpin is how long an idle helper waits for work before parking,
// and the caller of a parallel section for its helpers before blocking
// (SetHelperSpin; DefaultHelperSpin at first): longer than most gaps
// between a network's forks at batch 1 (a small single-threaded step, the
// graph executor). The spinners yield every few microseconds, but they
// still take processor time from a busy server's other goroutines: with
// 200 µs zoo-serve's load test (make loadtest) lost a fifth of its
// throughput, with 50 µs it matched plain goroutines, so zoo-serve sets
// ServerHelperSpin. A single caller timing batch 1 gains from the longer
// wait: PreAct-ResNet18 at batch 1, paired with ONNX Runtime, engine/ORT
// median time 1.43 and 1.62 with 50 µs, 1.05 and 1.26 with 300 µs.
var helperSpin atomic.Int64

// The two settings of SetHelperSpin: for a caller that runs one network
// at a time (the default), and for a server whose other goroutines need
// the processors between runs (zoo-serve).
const (
	DefaultHelperSpin = 300 * time.Microsecond
	ServerHelperSpin  = 50 * time.Microsecond
)

func init() { helperSpin.Store(int64(DefaultHelperSpin)) }

// SetHelperSpin sets how long idle helpers spin for work, and a parallel
// section's caller for its helpers, before blocking; 0 blocks at once. It
// returns the previous setting. Safe to call at any time.
func SetHelperSpin(d time.Duration) time.Duration {
	return time.Duration(helperSpin.Swap(int64(max(d, 0))))
}

func spinFor() time.Duration { return time.Duration(helperSpin.Load()) }

// spinHelpers turns the helpers and the spinning wait on; benchmarks turn
// it off to compare with plain goroutines.
var spinHelpers = true

const (
	helperBusy = iota
	helperSpinning
	helperParked
)

type helper struct {
	state atomic.Int32
	task  atomic.Pointer[func()]
	wake  chan func()
}

var pool struct {
	once    sync.Once
	helpers []*helper
}

// dispatch runs task on an idle helper, or on a new goroutine when every
// helper is busy (nested parallel sections, GOMAXPROCS raised since).
func dispatch(task func()) {
	if !spinHelpers {
		go task()
		return
	}
	pool.once.Do(func() {
		for range runtime.GOMAXPROCS(0) - 1 {
			h := &helper{wake: make(chan func(), 1)}
			h.state.Store(helperParked)
			pool.helpers = append(pool.helpers, h)
			go h.loop()
		}
	})
	for _, h := range pool.helpers {
		if h.state.CompareAndSwap(helperSpinning, helperBusy) {
			h.task.Store(&task)
			return
		}
		if h.state.CompareAndSwap(helperParked, helperBusy) {
			h.wake <- task
			return
		}
	}
	go task()
}

func (h *helper) loop() {
	task := <-h.wake
	for {
		task()
		task = h.next()
	}
}

// next waits for the helper's next task: spinning for helperSpin, then
// parked.
func (h *helper) next() func() {
	h.state.Store(helperSpinning)
	start := time.Now()
	for i := 0; ; i++ {
		if h.task.Load() != nil {
			return *h.task.Swap(nil)
		}
		spinPause()
		// Spinning keeps this goroutine's thread awake; yielding now and
		// then lets other goroutines have the processor when they need it
		// (with none, the scheduler comes straight back here).
		if i%64 != 63 {
			continue
		}
		runtime.Gosched()
		if time.Since(start) < spinFor() {
			continue
		}
		if h.state.CompareAndSwap(helperSpinning, helperParked) {
			return <-h.wake
		}
		// A dispatcher claimed this helper: its task is on the way.
		for {
			if h.task.Load() != nil {
				return *h.task.Swap(nil)
			}
			spinPause()
		}
	}
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
