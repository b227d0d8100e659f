package train

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/zoo"
)

// EvalResult is an accuracy measurement on a test set.
type EvalResult struct {
	// Top1 and Top5 are percentages; Loss the mean cross-entropy.
	Top1, Top5, Loss float64
	Images           int
	// Seconds is the wall time EvaluateModel took (decoding, preprocessing
	// and the model), for images per second.
	Seconds float64
}

// tally accumulates top-k hits and loss from batches of logits.
type tally struct {
	hit1, hit5, n int
	loss          float64
}

func (t *tally) add(logits []float32, labels []int, classes int) error {
	if len(logits) != len(labels)*classes {
		return fmt.Errorf("train: %d logits for %d images of %d classes", len(logits), len(labels), classes)
	}
	for i, y := range labels {
		row := logits[i*classes : (i+1)*classes]
		if y < 0 || y >= classes {
			return fmt.Errorf("train: label %d outside the model's %d classes", y, classes)
		}
		// Rank of the true class: how many logits beat it (ties broken by
		// index, as a stable sort would).
		rank := 0
		mx := row[0]
		for j, v := range row {
			if v > row[y] || (v == row[y] && j < y) {
				rank++
			}
			mx = max(mx, v)
		}
		if rank == 0 {
			t.hit1++
		}
		if rank < 5 {
			t.hit5++
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		t.loss += math.Log(sum) - float64(row[y]-mx)
		t.n++
	}
	return nil
}

func (t *tally) result() EvalResult {
	n := float64(max(t.n, 1))
	return EvalResult{Top1: 100 * float64(t.hit1) / n, Top5: 100 * float64(t.hit5) / n, Loss: t.loss / n, Images: t.n}
}

// EvaluateNet measures net (eval mode, through its training graph) on ds
// with the test transform tf.
func EvaluateNet(ctx context.Context, net *zoo.Net, ds data.Dataset, tf data.Transform, batch int) (EvalResult, error) {
	l, err := data.NewLoader(ds, tf, data.LoaderOptions{BatchSize: batch})
	if err != nil {
		return EvalResult{}, err
	}
	var t tally
	for b, err := range l.Epoch(ctx, 0) {
		if err != nil {
			return EvalResult{}, err
		}
		logits, err := net.Forward(b.X, b.N)
		if err != nil {
			return EvalResult{}, fmt.Errorf("train: evaluate: %w", err)
		}
		if err := t.add(logits, b.Labels, len(logits)/max(b.N, 1)); err != nil {
			return EvalResult{}, err
		}
	}
	return t.result(), nil
}

// EvalBatch is the batch size EvaluateModel runs the engine with. Publish
// and verify both use it, so their numbers agree to the last image.
const EvalBatch = 100

// EvaluateModel measures an inference model (ONNX through the engine) on ds,
// preprocessing every image with the model's entry (hub's Preprocess), so
// the number is what a user of the hub gets.
func EvaluateModel(ctx context.Context, m *hub.Model, ds data.Dataset) (EvalResult, error) {
	return evaluateModel(ctx, m, ds, nil)
}

// evaluateModel runs EvaluateModel's batches, decoding and preprocessing the
// images of a batch on all cores (in a fixed order, so results do not depend
// on scheduling), and reports after each batch to meter when it is not nil.
func evaluateModel(ctx context.Context, m *hub.Model, ds data.Dataset, meter *evalMeter) (EvalResult, error) {
	start := time.Now()
	in := m.Info().Input
	per := in.Shape[0] * in.Shape[1] * in.Shape[2]
	var t tally
	x := make([]float32, EvalBatch*per)
	labels := make([]int, EvalBatch)
	errs := make([]error, EvalBatch)
	workers := max(1, min(runtime.GOMAXPROCS(0), EvalBatch))
	for lo := 0; lo < ds.Len(); lo += EvalBatch {
		if err := ctx.Err(); err != nil {
			return EvalResult{}, err
		}
		n := min(EvalBatch, ds.Len()-lo)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(workers, n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
					errs[j] = nil
					ex, err := ds.Example(lo + j)
					if err != nil {
						errs[j] = err
						continue
					}
					v, err := m.Preprocess(data.ExampleImage(ex))
					if err != nil {
						errs[j] = fmt.Errorf("train: evaluate: example %d: %w", lo+j, err)
						continue
					}
					copy(x[j*per:(j+1)*per], v)
					labels[j] = ex.Label
				}
			}()
		}
		wg.Wait()
		for _, err := range errs[:n] {
			if err != nil {
				return EvalResult{}, err
			}
		}
		shape := append([]int{n}, in.Shape...)
		out, err := m.Run(ctx, hub.Tensor{Shape: shape, Data: x[:n*per]})
		if err != nil {
			return EvalResult{}, fmt.Errorf("train: evaluate %s: %w", m.Info().Name, err)
		}
		if len(out) == 0 || len(out[0].Shape) != 2 || out[0].Shape[0] != n {
			return EvalResult{}, fmt.Errorf("train: evaluate %s: output shape is not batch × classes", m.Info().Name)
		}
		if err := t.add(out[0].Data, labels[:n], out[0].Shape[1]); err != nil {
			return EvalResult{}, err
		}
		meter.update(t.n, ds.Len(), t.hit1, t.hit5)
	}
	r := t.result()
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}
