package fmix

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/dsp/fourier"
)

// TestFFTPlansMatchGonum checks our radix-2 plans against gonum's FFTPACK.
func TestFFTPlansMatchGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{2, 4, 8, 16, 64, 256, 12, 30} {
		c := make([]complex128, n)
		for i := range c {
			c[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
		want := fourier.NewCmplxFFT(n).Sequence(nil, c)
		got := append([]complex128(nil), c...)
		newInverseFFT(n).inverse(got)
		for i := range got {
			require.InDelta(t, real(want[i]), real(got[i]), 1e-10, "complex n %d", n)
			require.InDelta(t, imag(want[i]), imag(got[i]), 1e-10, "complex n %d", n)
		}

		h := make([]complex128, n/2+1)
		for i := range h {
			h[i] = complex(r.NormFloat64(), r.NormFloat64()) // imag of bins 0 and n/2 must be ignored
		}
		wantR := fourier.NewFFT(n).Sequence(nil, h)
		gotR := make([]float64, n)
		newRealInverseFFT(n).sequence(gotR, append([]complex128(nil), h...))
		require.InDeltaSlice(t, wantR, gotR, 1e-10, "real n %d", n)
	}
}
