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

// realInverseFFT is an unnormalised inverse real DFT of one fixed length
// n from its n/2+1 half-spectrum coefficients, ignoring the imaginary parts
// of bins 0 and n/2 as a real transform does (numpy's irfft, gonum's
// FFT.Sequence). coef is clobbered.
type realInverseFFT interface {
	sequence(dst []float64, coef []complex128)
}

// newRealInverseFFT returns a plan for length n: a half-length radix-2
// complex transform for powers of two from 4 on, gonum's FFTPACK otherwise.
func newRealInverseFFT(n int) realInverseFFT {
	if n >= 4 && n&(n-1) == 0 {
		r := &realRadix2{half: newRadix2(n / 2), tw: make([]complex128, n/2), z: make([]complex128, n/2)}
		for k := range r.tw {
			c, s := unitCircle(k, n)
			r.tw[k] = complex(c, s)
		}
		return r
	}
	return gonumRealFFT{fourier.NewFFT(n)}
}

type gonumRealFFT struct{ t *fourier.FFT }

func (g gonumRealFFT) sequence(dst []float64, coef []complex128) { g.t.Sequence(dst, coef) }

// realRadix2 computes the n real samples as the n/2 complex samples
// z[m] = x[2m] + i·x[2m+1], the inverse transform of
// Z[k] = (X[k] + X[k+n/2]) + i·(X[k] - X[k+n/2])·e^{2πik/n}, where
// X[k+n/2] = conj(X[n/2-k]) by Hermitian symmetry.
type realRadix2 struct {
	half *radix2
	tw   []complex128 // e^{2πi·k/n}, k < n/2
	z    []complex128
}

func (r *realRadix2) sequence(dst []float64, coef []complex128) {
	h := len(r.z)
	coef[0] = complex(real(coef[0]), 0)
	coef[h] = complex(real(coef[h]), 0)
	for k := 0; k < h; k++ {
		x := coef[k]
		y := coef[h-k]
		y = complex(real(y), -imag(y)) // X[k+n/2]
		a := x + y
		d := x - y
		w := r.tw[k]
		b := complex(real(d)*real(w)-imag(d)*imag(w), real(d)*imag(w)+imag(d)*real(w))
		r.z[k] = complex(real(a)-imag(b), imag(a)+real(b)) // a + i·b
	}
	r.half.inverse(r.z)
	dst = dst[:2*h]
	for m, v := range r.z {
		dst[2*m], dst[2*m+1] = real(v), imag(v)
	}
}
