package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/fmixzoo/zoo/engine"
)

// paired times the engine and ONNX Runtime in one process: blocks of block
// back-to-back runs of one, then of the other (which goes first
// alternating), pairs times. A shared machine's speed drifts by a factor of
// two or more within minutes; blocks a fraction of a second apart see the
// same machine, so the two distributions (and the ratios of the paired
// blocks' medians) compare like with like, where separate timed stretches
// compare whatever the machine was doing at the time. Each block starts
// with one untimed run and ends with a pause: ONNX Runtime's worker threads
// spin for tens of milliseconds after a run (measured here: with 5 ms
// between runs the engine's runs took 1.6x as long as with 50 ms, and as
// little as ever with ORT's spinning turned off), and neither side may run
// while the other's threads still spin.
//
// control "engine" or "ort" pairs that side with a second copy of itself
// (in the ORT column): the ratios then measure the method's own bias,
// which should be 1.
func paired(model string, threads, batch, classes, pairs, block int, pause time.Duration, control string) error {
	data, err := os.ReadFile(model)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(threads) // the engine's parallelism
	m, err := engine.Read(data)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	in := make([]float32, batch*imageSize())
	for i := range in {
		in[i] = float32(i%255)/255 - 0.5
	}
	s, err := newSession(model, threads, batch, classes, in)
	if err != nil {
		return err
	}
	defer s.Destroy()
	x := engine.Tensor{Shape: []int{batch, chw[0], chw[1], chw[2]}, Data: in}
	ctx := context.Background()
	var got []engine.Tensor
	runEngine := func() (err error) { got, err = m.Run(ctx, x); return err }
	runORT := func() error { return s.Run() }
	switch control {
	case "":
	case "engine":
		m2, err := engine.Read(data)
		if err != nil {
			return err
		}
		runORT = func() error { _, err := m2.Run(ctx, x); return err }
	case "ort":
		s2, err := newSession(model, threads, batch, classes, in)
		if err != nil {
			return err
		}
		defer s2.Destroy()
		if err := runEngine(); err != nil {
			return err
		}
		runEngine = func() error { return s2.Run() }
	default:
		return fmt.Errorf("-control %q: want engine or ort", control)
	}
	// Warm-up (plans compiled, weights packed), and both must compute the
	// same logits.
	for range 3 {
		if err := runEngine(); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		if err := runORT(); err != nil {
			return fmt.Errorf("ort: %w", err)
		}
	}
	var diff, maxAbs float64
	for i, v := range s.out.GetData() {
		if control != "" {
			break
		}
		diff = math.Max(diff, math.Abs(float64(v-got[0].Data[i])))
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	if tol := 1e-4 * math.Max(1, maxAbs); diff > tol {
		return fmt.Errorf("paired: engine and ORT logits differ by %.3g > %.3g", diff, tol)
	}
	timeBlock := func(run func() error) ([]float64, error) {
		if err := run(); err != nil {
			return nil, err
		}
		ms := make([]float64, block)
		for i := range ms {
			t0 := time.Now()
			if err := run(); err != nil {
				return nil, err
			}
			ms[i] = time.Since(t0).Seconds() * 1e3
		}
		time.Sleep(pause)
		return ms, nil
	}
	var e, o, ratios []float64
	faster := 0
	for i := range pairs {
		var eb, ob []float64
		if i%2 == 0 {
			if eb, err = timeBlock(runEngine); err == nil {
				ob, err = timeBlock(runORT)
			}
		} else {
			if ob, err = timeBlock(runORT); err == nil {
				eb, err = timeBlock(runEngine)
			}
		}
		if err != nil {
			return err
		}
		e, o = append(e, eb...), append(o, ob...)
		r := median(eb) / median(ob)
		ratios = append(ratios, r)
		if r < 1 {
			faster++
		}
	}
	slices.Sort(e)
	slices.Sort(o)
	slices.Sort(ratios)
	if control != "" {
		fmt.Printf("control: both columns are %s\n", control)
	}
	fmt.Printf("paired batch=%d: %d pairs of blocks of %d runs, %v pause; max |engine - ORT| logit %.2g\n", batch, pairs, block, pause, diff)
	fmt.Printf("%-8s %9s %9s %9s %9s %9s\n", "ms", "min", "p10", "p25", "median", "p75")
	for _, side := range []struct {
		name string
		v    []float64
	}{{"engine", e}, {"ORT", o}} {
		fmt.Printf("%-8s %9.3f %9.3f %9.3f %9.3f %9.3f\n", side.name, side.v[0], quantile(side.v, 0.1), quantile(side.v, 0.25), quantile(side.v, 0.5), quantile(side.v, 0.75))
	}
	fmt.Printf("paired-summary batch=%d engine_min=%.3f ort_min=%.3f engine_median=%.3f ort_median=%.3f block_ratio_median=%.3f engine_faster_blocks=%d/%d\n",
		batch, e[0], o[0], quantile(e, 0.5), quantile(o, 0.5), quantile(ratios, 0.5), faster, pairs)
	return nil
}

// quantile is the q-quantile of sorted v (nearest rank).
func quantile(v []float64, q float64) float64 { return v[int(q*float64(len(v)-1)+0.5)] }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return quantile(s, 0.5)
}
