package fmix

import (
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// inverseFFT is an unnormalised inverse complex DFT of one fixed length,
// in place: a[j] ← Σ_k a[k]·e^{2πi·jk/n}.
type inverseFFT interface {
	inverse(a []complex128)
}

// newInverseFFT returns a plan for length n: an iterative radix-2
// transform for powers of two, gonum's mixed-radix FFTPACK otherwise.
func newInverseFFT(n int) inverseFFT {
	if n >= 2 && n&(n-1) == 0 {
		return newRadix2(n)
	}
	return gonumFFT{fourier.NewCmplxFFT(n)}
}

type gonumFFT struct{ t *fourier.CmplxFFT }

func (g gonumFFT) inverse(a []complex128) { g.t.Sequence(a, a) }

// radix2 is a decimation-in-time FFT with precomputed twiddles and
// bit-reversal permutation. It allocates nothing per transform.
type radix2 struct {
	tw  []complex128 // e^{2πi·k/n}, k < n/2
	rev []int32
}

func newRadix2(n int) *radix2 {
	r := &radix2{tw: make([]complex128, n/2), rev: make([]int32, n)}
	for k := range r.tw {
		c, s := unitCircle(k, n)
		r.tw[k] = complex(c, s)
	}
	shift := 64 - bits.Len(uint(n-1))
	for i := range r.rev {
		r.rev[i] = int32(bits.Reverse64(uint64(i)) >> shift)
	}
	if n == 1 {
		r.rev[0] = 0
	}
	return r
}

func (r *radix2) inverse(a []complex128) {
	n := len(r.rev)
	a = a[:n]
	for i, j := range r.rev {
		if i < int(j) {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			lo, hi := a[start:start+half], a[start+half:start+size]
			for k := range lo {
				w := r.tw[k*step]
				v := hi[k]
				v = complex(real(v)*real(w)-imag(v)*imag(w), real(v)*imag(w)+imag(v)*real(w))
				u := lo[k]
				lo[k], hi[k] = u+v, u-v
			}
		}
	}
}
