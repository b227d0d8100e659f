package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel runs each microkernel on cache-resident operands:
// its ceiling, beside BenchmarkFMAPeak.
func BenchmarkMicroKernel(b *testing.B) {
	for _, mk := range cpuKernels {
		for _, kc := range []int{64, 256, 512} {
			for _, ldc := range []int{mk.nr, 1024} {
				b.Run(fmt.Sprintf("%s/kc=%d/ldc=%d", mk.name, kc, ldc), func(b *testing.B) {
					a := make([]float32, mk.mr*kc)
					bp := make([]float32, kc*mk.nr)
					c := make([]float32, mk.mr*ldc)
					for b.Loop() {
						mk.fn(kc, &a[0], &bp[0], &c[0], ldc)
					}
					reportGFLOPS(b, float64(2*mk.mr*mk.nr*kc))
				})
			}
		}
	}
}
