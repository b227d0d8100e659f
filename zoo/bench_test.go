package zoo

import (
	"math/rand/v2"
	"testing"
)

func benchmarkTrainStep(b *testing.B, arch string, args Args, batch int) {
	n, err := Build(arch, args)
	if err != nil {
		b.Fatal(err)
	}
	x, targets := randomBatch(rand.New(rand.NewPCG(1, 1)), n, batch)
	benchImages(b, batch, func() error {
		_, err := n.TrainStep(x, batch, targets)
		return err
	})
}

// benchImages runs step once to warm up, then b.N times, and reports the
// images a second, batch to a step.
func benchImages(b *testing.B, batch int, step func() error) {
	if err := step(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkTrainStep reports training throughput (forward, loss, backward;
// no optimiser) at batch 128.
func BenchmarkTrainStep(b *testing.B) {
	b.Run("lenet", func(b *testing.B) { benchmarkTrainStep(b, "lenet", Args{}, 128) })
	b.Run("preact_resnet18_w16", func(b *testing.B) { benchmarkTrainStep(b, "preact_resnet18", Args{Width: 16}, 128) })
	b.Run("preact_resnet18", func(b *testing.B) { benchmarkTrainStep(b, "preact_resnet18", Args{}, 128) })
}

func benchmarkInputGradient(b *testing.B, arch string, args Args, batch int) {
	n, err := Build(arch, args)
	if err != nil {
		b.Fatal(err)
	}
	n.Freeze()
	x, _ := randomBatch(rand.New(rand.NewPCG(1, 1)), n, batch)
	o := GradOptions{Classes: make([]int, batch), CrossEntropy: true, Input: true}
	benchImages(b, batch, func() error {
		_, err := n.Gradients(x, batch, o)
		return err
	})
}

// BenchmarkInputGradient reports the throughput of eval-mode input
// gradients of the cross-entropy (an attack step) on a frozen network.
func BenchmarkInputGradient(b *testing.B) {
	fashion := Args{NC: 1, InputSize: 28}
	b.Run("preact_resnet18_fashion/batch1", func(b *testing.B) { benchmarkInputGradient(b, "preact_resnet18", fashion, 1) })
	b.Run("preact_resnet18_fashion/batch128", func(b *testing.B) { benchmarkInputGradient(b, "preact_resnet18", fashion, 128) })
}
