package hub

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/require"
)

// BenchmarkExplainVsClassify compares, in one process on one model, the
// latency at batch 1 of classifying an input (the engine running the
// model's ONNX graph, what /classify does) with explaining it (Grad-CAM on
// the network rebuilt from the same ONNX file, what /explain does: one
// eval-mode forward pass and the backward pass from the logits to the
// explained layer). Each iteration times one of each, alternately, so the
// shared machine's noise hits both; it reports their medians and the
// ratio explain/classify (the goal is at most 3).
//
//	go test -run '^$' -bench ExplainVsClassify -benchtime 40x ./hub/
func BenchmarkExplainVsClassify(b *testing.B) {
	for _, tc := range []struct {
		name string
		args zoo.Args
	}{
		{"preact_resnet18_fashion", zoo.Args{NumClasses: 10, NC: 1, InputSize: 28}},
		{"preact_resnet18_cifar", zoo.Args{NumClasses: 10, NC: 3, InputSize: 32}},
		{"lenet", zoo.Args{NumClasses: 10, NC: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			arch := "preact_resnet18"
			if tc.name == "lenet" {
				arch = "lenet"
			}
			src, err := zoo.Build(arch, tc.args)
			require.NoError(b, err)
			var buf bytes.Buffer
			require.NoError(b, src.ExportONNX(&buf, nil))
			model, err := ReadONNX(buf.Bytes())
			require.NoError(b, err)
			net, err := zoo.ReadONNX(buf.Bytes())
			require.NoError(b, err)
			shape := append([]int{1}, net.InputShape()...)
			x := make([]float32, shape[1]*shape[2]*shape[3])
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			ctx := context.Background()
			classify := func() {
				_, err := model.Run(ctx, Tensor{Shape: shape, Data: x})
				require.NoError(b, err)
			}
			explain := func() {
				_, err := net.GradCAM(x, 1, zoo.CAMOptions{})
				require.NoError(b, err)
			}
			for range 3 { // plans, graphs and buffers built
				classify()
				explain()
			}
			var tc, te []float64
			for b.Loop() {
				t0 := time.Now()
				classify()
				t1 := time.Now()
				explain()
				tc = append(tc, t1.Sub(t0).Seconds()*1e3)
				te = append(te, time.Since(t1).Seconds()*1e3)
			}
			mc, me := median(tc), median(te)
			b.ReportMetric(mc, "classify-ms")
			b.ReportMetric(me, "explain-ms")
			b.ReportMetric(me/mc, "explain/classify")
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
