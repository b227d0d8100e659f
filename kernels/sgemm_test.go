package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireClose checks got against want with a tolerance that grows with
// the length of the dot products behind each value.
func requireClose(t *testing.T, want, got []float32, depth int, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	tol := 1e-5 * float64(depth+1)
	for i := range want {
		d := math.Abs(float64(want[i]) - float64(got[i]))
		if d > tol*(1+math.Abs(float64(want[i]))) {
			require.Failf(t, "mismatch", "%s: index %d: want %g, got %g", msg, i, want[i], got[i])
		}
	}
}

func TestSgemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type tc = gemmCase
	cases := []tc{
		{1, 1, 1, false, false, 1, 0, 0},
		{5, 7, 3, false, false, 1, 0, 0},
		{4, 4, 4, true, false, 2, 1, 1},
		{13, 9, 300, false, true, 1, 0.5, 3},
		{33, 65, 17, true, true, -1, 0, 2},
		{0, 5, 5, false, false, 1, 0, 0},
		{5, 5, 0, false, false, 1, 2, 0},
		{130, 530, 260, false, false, 1, 0, 0}, // crosses kc and nc blocks, parallel
		{130, 70, 260, true, true, 0.25, -1, 1},
		{200, 2100, 40, false, true, 1, 1, 0}, // crosses the packed nc block
	}
	// Every row count against narrow and wide products, so each kernel's
	// strip height (6, 12, 16) meets full and partial strips.
	for m := 1; m <= 33; m++ {
		for _, n := range []int{10, 16, 17, 40} {
			cases = append(cases, tc{m, n, 37, m%3 == 0, m%2 == 0, 1, 0, 0})
		}
	}
	for i := 0; i < 30; i++ {
		cases = append(cases, tc{1 + rng.IntN(70), 1 + rng.IntN(70), 1 + rng.IntN(300),
			rng.IntN(2) == 1, rng.IntN(2) == 1, rng.Float32()*2 - 1, float32(rng.IntN(3)) - 1, rng.IntN(3)})
	}
	forEachPath(t, func(t *testing.T) { testSgemmCases(t, rng, cases) })
}

// forEachPath runs f once with every microkernel this CPU runs, once
// with the pure-Go path and once with the portable patch packing.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	saved := activeKernel
	t.Cleanup(func() { activeKernel = saved })
	for _, mk := range append(availableKernels(), nil) {
		activeKernel = mk
		name := "go"
		if mk != nil {
			name = mk.name
		}
		t.Run(name, f)
	}
	// The portable packing of convolution patches, which CPUs without
	// AVX-512 take, under the first microkernel.
	if ks := availableKernels(); len(ks) > 0 && hasMaskedCopy {
		activeKernel = ks[0]
		hasMaskedCopy = false
		t.Run(ks[0].name+"-portable-pack", f)
		hasMaskedCopy = true
	}
}

type gemmCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
	pad            int // extra leading-dimension padding
}

func testSgemmCases(t *testing.T, rng *rand.Rand, cases []gemmCase) {
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%d_tA%v_tB%v_a%.2f_b%.0f", c.m, c.n, c.k, c.transA, c.transB, c.alpha, c.beta)
		t.Run(name, func(t *testing.T) {
			ar, acn := c.m, c.k
			if c.transA {
				ar, acn = c.k, c.m
			}
			br, bcn := c.k, c.n
			if c.transB {
				br, bcn = c.n, c.k
			}
			lda, ldb, ldc := acn+c.pad, bcn+c.pad, c.n+c.pad
			a := randSlice(rng, ar*lda)
			b := randSlice(rng, br*ldb)
			c0 := randSlice(rng, c.m*ldc)
			if c.beta == 0 {
				for i := range c0 {
					c0[i] = float32(math.NaN()) // beta=0 must not read C
				}
			}
			want := append([]float32(nil), c0...)
			refGemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want, ldc)
			got := append([]float32(nil), c0...)
			Sgemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got, ldc)
			// Padding columns must be left alone; compare everything.
			for i := range got {
				if math.IsNaN(float64(want[i])) {
					require.True(t, math.IsNaN(float64(got[i])), "padding at %d changed", i)
					want[i], got[i] = 0, 0
				}
			}
			requireClose(t, want, got, c.k, name)
		})
	}
}

func TestSgemmPanicsOnShortSlices(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 6), make([]float32, 3)
	require.Panics(t, func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) })
	require.Panics(t, func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, make([]float32, 4), 2) })
	require.NotPanics(t, func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, make([]float32, 4), 2) })
}
