package train

import (
	"math/rand/v2"
	"testing"

	"github.com/fmixzoo/zoo/zoo"
)

// BenchmarkTrainThroughput measures training images per second of
// PreAct-ResNet18 (width 64) on 32×32×3 input at batch 128: one TrainStep
// (forward, soft-target loss, backward) and one SGD step per iteration.
// bench.sh runs it beside the same step in PyTorch and prints the ratio.
func BenchmarkTrainThroughput(b *testing.B) {
	net, err := zoo.Build("preact_resnet18", zoo.Args{NumClasses: 10, NC: 3})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 128
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*3*32*32)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	targets := make([]float32, batch*10)
	for i := 0; i < batch; i++ {
		targets[i*10+rng.IntN(10)] = 1
	}
	params := net.Params()
	values, grads := make([][]float32, len(params)), make([][]float32, len(params))
	for i, p := range params {
		values[i], grads[i] = p.Value, p.Grad
	}
	opt := &SGD{Momentum: 0.9, WeightDecay: 1e-4}
	step := func() {
		if _, err := net.TrainStep(x, batch, targets); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(0.1, values, grads); err != nil {
			b.Fatal(err)
		}
	}
	step() // warm-up: graph build, allocations
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
}
