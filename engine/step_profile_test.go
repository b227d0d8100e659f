package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStepProfile prints where a run of one of the benchmark models
// (testdata/torch/bench/, see BenchmarkArch) spends its time: each step
// kind (op, output shape, second input's shape: a Conv's weights) with its
// milliseconds a run, most first. A tool, not a check: it runs only when
// asked, e.g.
//
//	ENGINE_STEP_PROFILE=resnet101_full:1,3,224,224 GOMAXPROCS=2 go test -run StepProfile -v ./engine/
//
// (ENGINE_STEP_RUNS sets the timed runs, 20 by default). Steps are timed
// from the calling goroutine, so on more than one core each includes its
// wait for the others.
func TestStepProfile(t *testing.T) {
	spec := os.Getenv("ENGINE_STEP_PROFILE")
	if spec == "" {
		t.Skip("set ENGINE_STEP_PROFILE=model:N,C,H,W to profile a benchmark model's steps")
	}
	name, dims, ok := strings.Cut(spec, ":")
	require.True(t, ok, "ENGINE_STEP_PROFILE is model:N,C,H,W")
	var shape []int
	for _, f := range strings.Split(dims, ",") {
		v, err := strconv.Atoi(f)
		require.NoError(t, err, "ENGINE_STEP_PROFILE's shape")
		shape = append(shape, v)
	}
	runs := 20
	if v := os.Getenv("ENGINE_STEP_RUNS"); v != "" {
		var err error
		runs, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "torch", "bench", name+".onnx"))
	require.NoError(t, err, "run scripts/rss-engine.sh to write the benchmark models")
	m, err := Read(data)
	require.NoError(t, err)
	in := Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))}
	for range 3 {
		_, err := m.Run(context.Background(), in)
		require.NoError(t, err)
	}
	total := map[string]time.Duration{}
	stepTimer = func(op string, out, second []int, d time.Duration) {
		total[fmt.Sprintf("%s %v %v", op, out, second)] += d
	}
	t0 := time.Now()
	for range runs {
		_, err := m.Run(context.Background(), in)
		require.NoError(t, err)
	}
	wall := time.Since(t0)
	stepTimer = nil
	keys := make([]string, 0, len(total))
	var sum time.Duration
	for k, d := range total {
		keys = append(keys, k)
		sum += d
	}
	slices.SortFunc(keys, func(a, b string) int { return int(total[b] - total[a]) })
	ms := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(runs) }
	fmt.Printf("%s %v, %d runs: %.2f ms a run, %.2f in steps\n", name, shape, runs, ms(wall), ms(sum))
	for _, k := range keys {
		fmt.Printf("%9.3f ms  %s\n", ms(total[k]), k)
	}
}
