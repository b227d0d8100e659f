package fmix_test

import (
	"fmt"

	"github.com/fmixzoo/zoo/fmix"
)

// A Sampler draws λ and a mask; the mask's mean is λ rounded to a whole
// number of elements.
func ExampleSampler() {
	opts := fmix.DefaultOptions(32, 32) // α = 1, δ = 3, Official
	opts.Seed = 1
	s, err := fmix.NewSampler(opts)
	if err != nil {
		panic(err)
	}
	lam, mask := s.Mask()
	sum := 0.0
	for _, m := range mask {
		sum += m
	}
	fmt.Println(len(mask), sum == float64(int(lam*1024)) || sum == float64(int(lam*1024)+1))
	// Output: 1024 true
}

// Binarise keeps the largest values: here the top half of four.
func ExampleBinarise() {
	fmt.Println(fmix.Binarise([]float64{0.1, 0.9, 0.4, 0.6}, 0.5, true, 0))
	// Output: [0 1 0 1]
}

// A Mixer mixes a batch laid out N·C·H·W and says how, for the loss.
func ExampleMixer() {
	const n, c, h, w = 4, 3, 8, 8
	m, err := fmix.NewMixer(fmix.MixOptions{Options: fmix.DefaultOptions(h, w), Mode: fmix.ModeFMix})
	if err != nil {
		panic(err)
	}
	x := make([]float32, n*c*h*w)
	r, err := m.Mix(x, x, n) // in place
	if err != nil {
		panic(err)
	}
	logits := make([]float32, n*10)
	loss, err := fmix.Loss(logits, 10, []int{0, 1, 2, 3}, r, true)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d examples, loss %.4f\n", len(r.Perm), loss)
	// Output: 4 examples, loss 2.3026
}
