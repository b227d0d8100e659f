package attack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/zoo"
)

// benchModel is a random-weight network of the shipped Fashion-MNIST
// shapes (1 × 28 × 28, 10 classes) in pixel space, with a batch of inputs.
func benchModel(b *testing.B, arch string, width, batch int) (*NetModel, []float32, []int) {
	b.Helper()
	net, err := zoo.Build(arch, zoo.Args{NumClasses: 10, NC: 1, Width: width, InputSize: 28})
	require.NoError(b, err)
	net.Init(1)
	net.Freeze() // as hub.LoadNet's networks are
	m, err := NewNetModel(net, []float64{0.2860}, []float64{0.3530}, batch)
	require.NoError(b, err)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*m.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	return m, x, labels
}

// shippedFashion are the architectures and widths of the shipped
// Fashion-MNIST models.
var shippedFashion = []struct {
	arch  string
	width int
}{{"lenet", 8}, {"preact_resnet18", 16}}

// One cross-entropy input gradient of a batch of 64 (a PGD/BIM/FGSM step)
// and one forward pass (each ε's success check), for the architectures of
// the shipped Fashion-MNIST models. A sweep over the seed's 14 ε costs per
// image about 13 × (1 + 40 + 10) gradients and 13 × 4 forward passes, plus
// DeepFool's (9 gradients a step while an image resists).
func BenchmarkGradient(b *testing.B) {
	for _, tc := range shippedFashion {
		m, x, labels := benchModel(b, tc.arch, tc.width, 64)
		b.Run(tc.arch+"/gradient", func(b *testing.B) {
			for b.Loop() {
				_, _, err := m.Gradient(x, 64, Objective{Labels: labels})
				require.NoError(b, err)
			}
			b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
		b.Run(tc.arch+"/forward", func(b *testing.B) {
			for b.Loop() {
				_, err := m.Logits(x, 64)
				require.NoError(b, err)
			}
			b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// The whole sweep (every attack at the seed's 14 ε) on one batch of 64
// random images, per image: the basis of a full test-set time estimate
// (× 10,000 images × models). Random weights make DeepFool's step count
// differ from a trained model's; the other attacks' work is fixed.
func BenchmarkSweep(b *testing.B) {
	for _, tc := range shippedFashion {
		m, x, labels := benchModel(b, tc.arch, tc.width, 64)
		b.Run(tc.arch, func(b *testing.B) {
			for b.Loop() {
				_, err := Sweep(context.Background(), m, x, labels, SweepOptions{Batch: 64})
				require.NoError(b, err)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(64*b.N), "s/img")
		})
	}
}

// Gradient throughput by batch size (the sweep's --batch).
func BenchmarkGradientBatch(b *testing.B) {
	for _, batch := range []int{32, 64, 128} {
		m, x, labels := benchModel(b, "preact_resnet18", 16, batch)
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			for b.Loop() {
				_, _, err := m.Gradient(x, batch, Objective{Labels: labels})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
