package data

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"runtime"
)

// Batch is one mini-batch: N transformed examples back to back in X
// (N × C×H×W) and their labels.
type Batch struct {
	X      []float32
	Labels []int
	N      int
	// Index is the batch's position in its epoch.
	Index int
}

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	BatchSize int
	// Shuffle draws a new order every epoch (from Seed and the epoch number).
	Shuffle bool
	// DropLast drops a final batch smaller than BatchSize.
	DropLast bool
	// Workers is the number of goroutines loading and transforming
	// (0: GOMAXPROCS).
	Workers int
	// Prefetch is how many batches may be ready ahead of the consumer
	// (0: 2×Workers).
	Prefetch int
	// Seed drives the order and every augmentation.
	Seed uint64
}

// Loader produces batches of a dataset through a transform, loading and
// augmenting in parallel with the consumer. The order and every random
// choice derive from the seed, the epoch and the batch index alone, so a
// run is reproducible whatever the goroutine scheduling.
type Loader struct {
	ds   Dataset
	tf   Transform
	opts LoaderOptions
}

// NewLoader returns a loader over ds.
func NewLoader(ds Dataset, tf Transform, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d, want > 0", opts.BatchSize)
	}
	if ds.Len() == 0 {
		return nil, fmt.Errorf("data: empty dataset: %w", ErrDataset)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2 * opts.Workers
	}
	return &Loader{ds: ds, tf: tf, opts: opts}, nil
}

// NumBatches is the number of batches in one epoch.
func (l *Loader) NumBatches() int {
	n, b := l.ds.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order is the example order of an epoch.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	if !l.opts.Shuffle {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		return order
	}
	rng := rand.New(rand.NewPCG(l.opts.Seed, 0x5eed0000_00000000|uint64(epoch)))
	return rng.Perm(n)
}

type loaded struct {
	b   *Batch
	err error
}

// Epoch yields the batches of one epoch in order. Stopping the iteration
// early, or cancelling ctx, stops the workers.
func (l *Loader) Epoch(ctx context.Context, epoch int) iter.Seq2[*Batch, error] {
	return func(yield func(*Batch, error) bool) {
		order := l.Order(epoch)
		nb := l.NumBatches()
		results := make([]chan loaded, nb)
		for i := range results {
			results[i] = make(chan loaded, 1)
		}
		done := make(chan struct{})
		defer close(done)
		jobs := make(chan int)
		slots := make(chan struct{}, l.opts.Prefetch)
		go func() {
			defer close(jobs)
			for b := 0; b < nb; b++ {
				select {
				case slots <- struct{}{}:
				case <-done:
					return
				}
				select {
				case jobs <- b:
				case <-done:
					return
				}
			}
		}()
		for w := 0; w < l.opts.Workers; w++ {
			go func() {
				for b := range jobs {
					batch, err := l.build(epoch, b, order)
					results[b] <- loaded{batch, err}
				}
			}()
		}
		for b := 0; b < nb; b++ {
			var r loaded
			select {
			case r = <-results[b]:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			<-slots
			if !yield(r.b, r.err) || r.err != nil {
				return
			}
		}
	}
}

// build loads and transforms batch b of an epoch.
func (l *Loader) build(epoch, b int, order []int) (*Batch, error) {
	lo := b * l.opts.BatchSize
	hi := min(lo+l.opts.BatchSize, len(order))
	per := OutLen(l.tf)
	batch := &Batch{X: make([]float32, (hi-lo)*per), Labels: make([]int, hi-lo), N: hi - lo, Index: b}
	rng := rand.New(rand.NewPCG(l.opts.Seed, uint64(epoch)<<32|uint64(b)))
	for i, idx := range order[lo:hi] {
		ex, err := l.ds.Example(idx)
		if err != nil {
			return nil, err
		}
		if err := l.tf.Apply(ex, rng, batch.X[i*per:(i+1)*per]); err != nil {
			return nil, fmt.Errorf("data: transform example %d: %w", idx, err)
		}
		batch.Labels[i] = ex.Label
	}
	return batch, nil
}
