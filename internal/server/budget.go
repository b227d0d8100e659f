package server

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// budget is a process-wide allowance of bytes for decoding request bodies:
// image pixels, preprocessing planes and tensors. A request charges what it
// is about to allocate before it allocates it and releases the charge when
// the memory is garbage. Unlike golang.org/x/sync/semaphore it is not FIFO:
// a small charge that fits passes a large one that waits, so that one
// client's huge images do not hold up other clients' small ones.
type budget struct {
	total int64
	wait  time.Duration // longest wait for room before answering 503

	mu   sync.Mutex
	used int64
	room chan struct{} // closed (and replaced) whenever a charge is released
}

func newBudget(total int64, wait time.Duration) *budget {
	return &budget{total: total, wait: wait, room: make(chan struct{})}
}

// errBudgetSpent is answered when the budget stays spent for the whole wait.
var errBudgetSpent = &apiError{status: http.StatusServiceUnavailable,
	msg: "server busy: the memory for decoding requests is in use, retry later", retryAfter: 1}

// acquire charges n bytes, waiting up to b.wait (or until ctx ends) for
// room. A charge larger than the whole budget can never fit: that is a 413
// naming what, never a wait.
func (b *budget) acquire(ctx context.Context, n int64, what string) error {
	if n > b.total {
		return errorf(http.StatusRequestEntityTooLarge,
			"%s needs %d MiB of memory to decode, more than the server's budget of %d MiB (--decode-memory)",
			what, (n+(1<<20)-1)>>20, b.total>>20)
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		room := b.room
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(b.wait)
		}
		select {
		case <-room:
		case <-timer.C:
			return errBudgetSpent
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release returns n bytes charged by acquire.
func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.room)
	b.room = make(chan struct{})
	b.mu.Unlock()
}

// inUse reports the bytes charged now.
func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// charge is a running total charged to a budget by one request, released
// all at once.
type charge struct {
	b *budget
	n int64
}

// add charges n more bytes for what; a request whose charges together
// exceed the whole budget gets a 413 rather than waiting for itself.
func (c *charge) add(ctx context.Context, n int64, what string) error {
	if c.n+n > c.b.total && n <= c.b.total {
		return errorf(http.StatusRequestEntityTooLarge,
			"%s needs %d MiB of memory to decode on top of the request's %d MiB, more than the server's budget of %d MiB (--decode-memory)",
			what, (n+(1<<20)-1)>>20, (c.n+(1<<20)-1)>>20, c.b.total>>20)
	}
	if err := c.b.acquire(ctx, n, what); err != nil {
		return err
	}
	c.n += n
	return nil
}

// releaseAll releases everything charged so far.
func (c *charge) releaseAll() {
	c.b.release(c.n)
	c.n = 0
}
