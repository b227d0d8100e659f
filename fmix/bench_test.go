package fmix

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are the sizes `make bench` compares against numpy
// (testdata/bench_numpy.py times the published algorithm on the same ones).
var benchShapes = [][]int{{32, 32}, {224, 224}, {64, 64, 64}}

func shapeName(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

// BenchmarkCore times the deterministic core the numpy script times as
// "core": spectrum from fixed draws, inverse FFT, normalisation and
// binarisation at λ = 0.5. It must not allocate.
func BenchmarkCore(b *testing.B) {
	for _, v := range []Variant{Official, Isotropic} {
		for _, shape := range benchShapes {
			b.Run(fmt.Sprintf("%s/%s", v, shapeName(shape)), func(b *testing.B) {
				p, err := newPlan(shape, 3, v)
				if err != nil {
					b.Fatal(err)
				}
				r := rand.New(rand.NewPCG(1, 2))
				normals := make([]float64, p.nNormals)
				for i := range normals {
					normals[i] = r.NormFloat64()
				}
				mask := make([]float64, p.n)
				var bin binariser
				load := func(t *term) complex128 {
					return complex(t.sre*normals[t.re], t.sim*normals[t.im])
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.load(load)
					lo, hi := cut(p.n, 0.5, i%2 == 0, 0)
					if !p.mask(mask, &bin, lo, hi) {
						b.Fatal("constant image")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/mask")
			})
		}
	}
}

// BenchmarkSampleMask times Sampler.Mask, the whole sample_mask: λ, draws,
// image, coin and binarisation. It must not allocate.
func BenchmarkSampleMask(b *testing.B) {
	for _, v := range []Variant{Official, Isotropic} {
		for _, shape := range benchShapes {
			b.Run(fmt.Sprintf("%s/%s", v, shapeName(shape)), func(b *testing.B) {
				o := DefaultOptions(shape...)
				o.Variant = v
				s, err := NewSampler(o)
				if err != nil {
					b.Fatal(err)
				}
				s.Mask()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.Mask()
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/mask")
			})
		}
	}
}
