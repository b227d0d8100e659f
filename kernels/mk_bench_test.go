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

// Microkernel under the memory traffic of a real product: B panels
// streaming from a 1 MB block (L2), C tiles spread over a large matrix.
func BenchmarkKernelStream(b *testing.B) {
	if len(cpuKernels) == 0 {
		b.Skip("no assembly microkernel in this build or CPU")
	}
	mk := cpuKernels[0]
	const kc = 256
	for _, mode := range []string{"l1", "bstream", "cstream", "both"} {
		b.Run(mode, func(b *testing.B) {
			a := make([]float32, mk.mr*kc)
			npanels := 1
			if mode == "bstream" || mode == "both" {
				npanels = 32 // 32 × 32 KB = 1 MB
			}
			bp := make([]float32, npanels*kc*mk.nr)
			ldc := mk.nr
			rowsC := mk.mr
			if mode == "cstream" || mode == "both" {
				ldc, rowsC = 1024, 64*12
			}
			c := make([]float32, rowsC*ldc)
			i := 0
			for b.Loop() {
				p := i % npanels
				coff := 0
				if rowsC > mk.mr {
					coff = ((i/32)%(rowsC/mk.mr))*mk.mr*ldc + (i%32)*mk.nr
				}
				mk.fn(kc, &a[0], &bp[p*kc*mk.nr], &c[coff], ldc)
				i++
			}
			reportGFLOPS(b, float64(2*mk.mr*mk.nr*kc))
		})
	}
}
