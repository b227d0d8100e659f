package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// errUnloaded is returned by submit when the model was unloaded after the
// request found it; the request loads it again.
var errUnloaded = errors.New("model unloaded")

// job is one request's images waiting for a batch.
type job struct {
	ctx      context.Context
	x        []float32 // n inputs back to back
	n        int
	enqueued time.Time
	done     chan result // buffered: the worker never blocks on it
}

type result struct {
	logits []float32 // n rows
	err    error
}

// batcher gathers one model's requests into batches and runs them.
type batcher struct {
	name     string
	model    Model
	size     int // values per input
	maxBatch int
	delay    time.Duration
	metrics  *metrics

	queue chan *job

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	wg     sync.WaitGroup
}

func newBatcher(name string, m Model, size int, cfg Config, mt *metrics) *batcher {
	b := &batcher{
		name:     name,
		model:    m,
		size:     size,
		maxBatch: cfg.MaxBatch,
		delay:    cfg.BatchDelay,
		metrics:  mt,
		queue:    make(chan *job, cfg.MaxQueue),
	}
	for range cfg.Workers {
		b.wg.Add(1)
		go b.work()
	}
	return b
}

// submit queues n inputs (x holds n*size values) and waits for their logits.
// It returns errQueueFull at once when the queue is full and errUnloaded
// when the batcher was closed.
func (b *batcher) submit(ctx context.Context, x []float32, n int) ([]float32, error) {
	j := &job{ctx: ctx, x: x, n: n, enqueued: time.Now(), done: make(chan result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, errUnloaded
	}
	select {
	case b.queue <- j:
	default:
		b.mu.RUnlock()
		return nil, errQueueFull
	}
	b.mu.RUnlock()
	select {
	case r := <-j.done:
		return r.logits, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops accepting jobs; the workers finish what is queued, then exit.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
}

// wait blocks until the workers have exited (after close).
func (b *batcher) wait() { b.wg.Wait() }

func (b *batcher) work() {
	defer b.wg.Done()
	var buf []float32
	var carry *job // a job that did not fit the previous batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first := carry
		carry = nil
		if first == nil {
			j, ok := <-b.queue
			if !ok {
				return
			}
			first = j
		}
		batch, n := []*job{first}, first.n
		if b.delay > 0 {
			timer.Reset(b.delay)
		}
	gather:
		for n < b.maxBatch {
			var j *job
			var ok bool
			if b.delay > 0 {
				select {
				case j, ok = <-b.queue:
				case <-timer.C:
					break gather
				}
			} else {
				select {
				case j, ok = <-b.queue:
				default:
					break gather
				}
			}
			if !ok {
				break
			}
			if n+j.n > b.maxBatch {
				carry = j
				break
			}
			batch, n = append(batch, j), n+j.n
		}
		if b.delay > 0 && !timer.Stop() {
			select { // drain a tick that fired while we were not looking
			case <-timer.C:
			default:
			}
		}
		buf = b.run(batch, buf)
	}
}

// run runs one batch and hands every job its own rows. It returns the input
// buffer for reuse.
func (b *batcher) run(batch []*job, buf []float32) []float32 {
	live := batch[:0:0]
	n := 0
	now := time.Now()
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- result{err: err} // its client has gone
			continue
		}
		b.metrics.queueWait.WithLabelValues(b.name).Observe(now.Sub(j.enqueued).Seconds())
		live = append(live, j)
		n += j.n
	}
	if n == 0 {
		return buf
	}
	if cap(buf) < n*b.size {
		buf = make([]float32, n*b.size)
	}
	x := buf[:n*b.size]
	off := 0
	for _, j := range live {
		off += copy(x[off:], j.x)
	}
	b.metrics.batchSize.WithLabelValues(b.name).Observe(float64(n))
	start := time.Now()
	logits, err := b.safeRun(x, n)
	b.metrics.inference.WithLabelValues(b.name).Observe(time.Since(start).Seconds())
	if err == nil {
		err = checkShape(logits, n)
	}
	if err != nil && len(live) > 1 {
		// One job's input may be what failed the batch: run each alone, so
		// that it fails only its own request.
		for _, j := range live {
			b.runAlone(j)
		}
		return buf
	}
	if err != nil {
		live[0].done <- result{err: err}
		return buf
	}
	b.deliver(live, logits, n)
	return buf
}

// runAlone runs one job as a batch of its own.
func (b *batcher) runAlone(j *job) {
	if err := j.ctx.Err(); err != nil {
		j.done <- result{err: err}
		return
	}
	logits, err := b.safeRun(j.x, j.n)
	if err == nil {
		err = checkShape(logits, j.n)
	}
	if err != nil {
		j.done <- result{err: err}
		return
	}
	b.deliver([]*job{j}, logits, j.n)
}

// deliver hands every job its rows of logits, or an error when one of its
// rows holds a non-finite value: that job alone fails.
func (b *batcher) deliver(live []*job, logits []float32, n int) {
	classes := len(logits) / n
	row := 0
	for _, j := range live {
		rows := logits[row*classes : (row+j.n)*classes]
		if i := nonFiniteRow(rows, classes); i >= 0 {
			j.done <- result{err: errorf(http.StatusUnprocessableEntity,
				"input %d: the model's output is not finite (NaN or ±Inf): the input's values are outside the range the model computes in", i+1)}
		} else {
			out := make([]float32, len(rows))
			copy(out, rows)
			j.done <- result{logits: out}
		}
		row += j.n
	}
}

// safeRun calls the model, turning a panic into an error.
func (b *batcher) safeRun(x []float32, n int) (logits []float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("run %s on a batch of %d: panic: %v", b.name, n, p)
		}
	}()
	logits, err = b.model.Run(context.Background(), x, n)
	if err != nil {
		return nil, fmt.Errorf("run %s on a batch of %d: %w", b.name, n, err)
	}
	return logits, nil
}

// checkShape checks that a model returned n non-empty rows.
func checkShape(logits []float32, n int) error {
	if len(logits) == 0 || len(logits)%n != 0 {
		return fmt.Errorf("model returned %d values for a batch of %d", len(logits), n)
	}
	return nil
}

// nonFiniteRow returns the first row of logits holding a NaN or an
// infinity, or -1.
func nonFiniteRow(logits []float32, classes int) int {
	for i, v := range logits {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i / classes
		}
	}
	return -1
}

// checkLogits checks a model's output: n non-empty rows of finite values.
func checkLogits(logits []float32, n int) error {
	if err := checkShape(logits, n); err != nil {
		return err
	}
	if nonFiniteRow(logits, len(logits)/n) >= 0 {
		return errorf(http.StatusInternalServerError, "model returned a non-finite value")
	}
	return nil
}
