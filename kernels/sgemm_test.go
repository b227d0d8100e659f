package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

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
		// Fully connected layers at small batches (sgemmDot): k with and
		// without a tail past a multiple of 16, n past a multiple of 6,
		// parallel and not, every row count up to four.
		{1, 1000, 2048, false, true, 1, 0, 0},
		{8, 1000, 2048, false, true, 1, 0, 0},
		{3, 101, 517, false, true, 0.5, -1, 2},
		{16, 10, 512, false, true, 1, 1, 1},
		{2, 7, 16, false, true, 1, 0, 0},
		{5, 5, 40, false, true, 1, 0, 0},
		{17, 40, 64, false, true, 1, 0, 0},
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

// TestShortStrips covers products whose last strip is 4 or 8 rows (the
// short kernels, setting and adding to C, full and partial panels, B
// packed and read as it lies): Sgemm against the reference, and
// convolutions against the reference and bit for bit against the same
// convolution with filters added up to a whole strip, whose first rows
// the full-height kernel computes.
func TestShortStrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var cases []gemmCase
	for _, m := range []int{4, 8, 16, 20, 64, 7} {
		for _, n := range []int{7, 45, 100} {
			cases = append(cases, gemmCase{m: m, n: n, k: 300, alpha: 1}, gemmCase{m: m, n: n, k: 5, alpha: 1, beta: 1, pad: 3})
		}
	}
	testSgemmCases(t, rng, cases)
	for _, p := range []ConvParams{
		{N: 1, C: 300, H: 14, W: 14, K: 64, R: 1, S: 1}, // B read as it lies, k blocks
		{N: 3, C: 40, H: 7, W: 9, K: 20, R: 1, S: 1},    // images side by side
		{N: 2, C: 3, H: 11, W: 11, K: 8, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	} {
		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/procs=%d", convName(p), procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				oh, ow := p.OutHW()
				x, w := randConv(rng, p)
				bias := randSlice(rng, p.K)
				y := randSlice(rng, p.N*p.K*oh*ow)
				NewPackedConv(p, w).Conv2D(p.N, x, y, ConvOpts{Bias: bias, Act: ActReLU})
				requireClose(t, refConv(p, x, w, bias, ActReLU, nil), y, p.C*p.R*p.S, "forward")
				q := p
				q.K = roundUp(p.K, 12)
				wq := append(w[:p.K*p.C*p.R*p.S:p.K*p.C*p.R*p.S], randSlice(rng, (q.K-p.K)*p.C*p.R*p.S)...)
				bq := append(bias[:p.K:p.K], make([]float32, q.K-p.K)...)
				yq := make([]float32, p.N*q.K*oh*ow)
				NewPackedConv(q, wq).Conv2D(p.N, x, yq, ConvOpts{Bias: bq, Act: ActReLU})
				for n := range p.N {
					require.Equal(t, yq[n*q.K*oh*ow:][:p.K*oh*ow], y[n*p.K*oh*ow:][:p.K*oh*ow], "image %d", n)
				}
			})
		}
	}
}

// TestPackedAAfter checks that packedA.after names the strip sgemmPackedSrc
// reads next (the one it prefetches), over every strip of row parts of
// products deeper than one k block.
func TestPackedAAfter(t *testing.T) {
	const mr = 12
	for _, c := range []struct{ mpad, row0, m, k int }{
		{mpad: 264, row0: 0, m: 256, k: 1024},
		{mpad: 264, row0: 36, m: 36, k: 576},
		{mpad: 264, row0: 252, m: 4, k: 700},
		{mpad: 24, row0: 12, m: 12, k: 100},
	} {
		pa := &packedA{s: make([]float32, c.mpad*c.k), mpad: c.mpad, row0: c.row0}
		step := kStep(c.k)
		// The strips in the order sgemmPackedSrc reads them (one jc block).
		var order []int
		for pc := 0; pc < c.k; pc += step {
			kc := min(step, c.k-pc)
			for r := 0; r < c.m; r += mr {
				order = append(order, pc*c.mpad+(c.row0+r)*kc)
			}
		}
		i := 0
		for pc := 0; pc < c.k; pc += step {
			kc := min(step, c.k-pc)
			for r := 0; r < c.m; r += mr {
				next := pa.after(pc, kc, r, c.m, c.k, step, mr)
				if i+1 == len(order) {
					require.Nil(t, next, "%+v: the last strip has no next", c)
					continue
				}
				require.NotNil(t, next, "%+v: strip %d", c, i)
				off := int(uintptr(unsafe.Pointer(&next[0]))-uintptr(unsafe.Pointer(&pa.s[0]))) / 4
				require.Equal(t, order[i+1], off, "%+v: strip %d", c, i)
				i++
			}
		}
	}
}
