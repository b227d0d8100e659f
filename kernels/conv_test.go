package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// convCases returns fixed edge cases plus random shapes.
func convCases(rng *rand.Rand) []ConvParams {
	cases := []ConvParams{
		{N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, S: 1},
		{N: 2, C: 3, H: 5, W: 7, K: 4, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 1, C: 4, H: 6, W: 6, K: 8, R: 1, S: 1},                                               // pointwise
		{N: 3, C: 4, H: 9, W: 8, K: 6, R: 1, S: 1, StrideH: 2, StrideW: 2},                       // strided 1×1 shortcut
		{N: 2, C: 6, H: 7, W: 9, K: 6, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 6}, // depthwise
		{N: 1, C: 6, H: 8, W: 5, K: 4, R: 3, S: 2, Group: 2, DilH: 2, DilW: 3, PadT: 2, PadR: 3}, // grouped, dilated, asymmetric
		{N: 2, C: 2, H: 5, W: 5, K: 3, R: 5, S: 5, StrideH: 3, StrideW: 2, PadB: 2, PadL: 1},
		{N: 1, C: 3, H: 11, W: 13, K: 5, R: 4, S: 2, StrideH: 2, StrideW: 3, PadT: 3, PadL: 1, PadB: 0, PadR: 2},
		// Larger than one packed block in k (C·R·S > 256) and n (OH·OW > 512).
		{N: 2, C: 40, H: 20, W: 30, K: 27, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		// One image with many filters: the product itself is split over cores.
		{N: 1, C: 5, H: 9, W: 11, K: 50, R: 3, S: 3, StrideH: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		// Depthwise with a channel multiplier, strided and dilated.
		{N: 2, C: 4, H: 7, W: 6, K: 8, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 4, DilW: 2},
		// Output rows wider than a 32-column panel, runs crossing images.
		{N: 3, C: 3, H: 4, W: 45, K: 5, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 5, C: 2, H: 3, W: 3, K: 20, R: 3, S: 3, PadT: 1, PadL: 2, PadB: 0, PadR: 1, DilW: 2},
		{N: 1, C: 34, H: 41, W: 37, K: 14, R: 3, S: 3, StrideH: 1, StrideW: 2, PadT: 1, PadL: 2, PadB: 0, PadR: 1, Group: 2},
	}
	for len(cases) < 40 {
		g := 1 + rng.IntN(3)
		p := ConvParams{
			N: 1 + rng.IntN(3), C: g * (1 + rng.IntN(4)), H: 1 + rng.IntN(12), W: 1 + rng.IntN(12),
			K: g * (1 + rng.IntN(4)), R: 1 + rng.IntN(4), S: 1 + rng.IntN(4),
			StrideH: 1 + rng.IntN(3), StrideW: 1 + rng.IntN(3),
			PadT: rng.IntN(3), PadL: rng.IntN(3), PadB: rng.IntN(3), PadR: rng.IntN(3),
			DilH: 1 + rng.IntN(2), DilW: 1 + rng.IntN(2), Group: g,
		}
		if oh, ow := p.OutHW(); oh < 1 || ow < 1 {
			continue
		}
		cases = append(cases, p)
	}
	return cases
}

func convName(p ConvParams) string {
	return fmt.Sprintf("N%dC%dH%dW%dK%dR%dS%d_s%d,%d_p%d,%d,%d,%d_d%d,%d_g%d",
		p.N, p.C, p.H, p.W, p.K, p.R, p.S, p.StrideH, p.StrideW, p.PadT, p.PadL, p.PadB, p.PadR, p.DilH, p.DilW, p.Group)
}

// randConv draws an input and then a filter for p.
func randConv(rng *rand.Rand, p ConvParams) (x, w []float32) {
	return randSlice(rng, p.N*p.C*p.H*p.W), randSlice(rng, p.K*(p.C/p.norm().Group)*p.R*p.S)
}

func TestConv2DMatchesReference(t *testing.T) {
	forEachPath(t, testConv2D)
}

func testConv2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i, p := range convCases(rng) {
		t.Run(convName(p), func(t *testing.T) {
			q := p.norm()
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			var bias, res []float32
			act := Activation(i % 2)
			if i%3 != 0 {
				bias = randSlice(rng, p.K)
			}
			if i%4 == 1 {
				res = randSlice(rng, p.N*p.K*oh*ow)
			}
			y := randSlice(rng, p.N*p.K*oh*ow) // garbage: must be overwritten
			Conv2DOpts(p, x, w, y, ConvOpts{Bias: bias, Residual: res, Act: act})
			depth := p.C / q.Group * p.R * p.S
			requireClose(t, refConv(p, x, w, bias, act, res), y, depth, "forward")
			if res == nil {
				y2 := randSlice(rng, len(y))
				Conv2D(p, x, w, bias, y2, act)
				assert.Equal(t, y, y2, "Conv2D and Conv2DOpts disagree")
			}
		})
	}
}

func TestConv2DBackwardMatchesReference(t *testing.T) {
	forEachPath(t, testConv2DBackward)
}

func testConv2DBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range convCases(rng) {
		t.Run(convName(p), func(t *testing.T) {
			q := p.norm()
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			dy := randSlice(rng, p.N*p.K*oh*ow)

			dx := randSlice(rng, len(x)) // garbage: must be overwritten
			Conv2DBackwardData(p, dy, w, dx)
			requireClose(t, refConvBackwardData(p, dy, w), dx, p.K/q.Group*p.R*p.S, "backward data")

			dw := randSlice(rng, len(w)) // garbage: must be overwritten
			Conv2DBackwardFilter(p, x, dy, dw)
			requireClose(t, refConvBackwardFilter(p, x, dy), dw, p.N*oh*ow, "backward filter")
		})
	}
}

// TestConv2DBackwardIsAdjoint checks the defining property of the data
// gradient: <conv(x, w), dy> = <x, convᵀ(dy, w)>, and of the filter
// gradient: <conv(x, w), dy> = <w, dW(x, dy)>.
func TestConv2DBackwardIsAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	for _, p := range convCases(rng)[:20] {
		oh, ow := p.OutHW()
		x, w := randConv(rng, p)
		dy := randSlice(rng, p.N*p.K*oh*ow)
		y := make([]float32, len(dy))
		Conv2D(p, x, w, nil, y, ActNone)
		dx := make([]float32, len(x))
		Conv2DBackwardData(p, dy, w, dx)
		dw := make([]float32, len(w))
		Conv2DBackwardFilter(p, x, dy, dw)
		lhs := dot(y, dy)
		assert.InDelta(t, lhs, dot(x, dx), 1e-3*(1+abs(lhs)), convName(p))
		assert.InDelta(t, lhs, dot(w, dw), 1e-3*(1+abs(lhs)), convName(p))
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestConvParamsOutHW(t *testing.T) {
	cases := []struct {
		p      ConvParams
		oh, ow int
	}{
		{ConvParams{H: 32, W: 32, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 32, 32},
		{ConvParams{H: 32, W: 32, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, 16, 16},
		{ConvParams{H: 7, W: 9, R: 3, S: 3, DilH: 2, DilW: 3}, 3, 3},
		{ConvParams{H: 5, W: 5, R: 2, S: 1, PadB: 1}, 5, 5},
	}
	for _, c := range cases {
		oh, ow := c.p.OutHW()
		assert.Equal(t, []int{c.oh, c.ow}, []int{oh, ow}, "%+v", c.p)
	}
}

func TestConv2DPanicsOnBadInput(t *testing.T) {
	p := ConvParams{N: 1, C: 2, H: 4, W: 4, K: 2, R: 3, S: 3}
	require.Panics(t, func() { Conv2D(p, make([]float32, 31), make([]float32, 36), nil, make([]float32, 8), ActNone) })
	require.Panics(t, func() {
		q := p
		q.Group = 3
		Conv2D(q, make([]float32, 32), make([]float32, 36), nil, make([]float32, 8), ActNone)
	})
	require.Panics(t, func() {
		q := p
		q.R = 5
		Conv2D(q, make([]float32, 32), make([]float32, 60), nil, make([]float32, 8), ActNone)
	})
	require.NotPanics(t, func() { Conv2D(p, make([]float32, 32), make([]float32, 36), nil, make([]float32, 8), ActNone) })
}

func TestPackedConvMatchesReference(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(12, 13))
		for i, p := range convCases(rng) {
			q := p.norm()
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			bias := randSlice(rng, p.K)
			res := randSlice(rng, p.N*p.K*oh*ow)
			pc := NewPackedConv(p, w)
			want := refConv(p, x, w, bias, ActReLU, res)
			clear(w) // the packed copy must not depend on the caller's slice
			y := randSlice(rng, p.N*p.K*oh*ow)
			pc.Conv2D(p.N, x, y, ConvOpts{Bias: bias, Residual: res, Act: ActReLU})
			requireClose(t, want, y, p.C/q.Group*p.R*p.S, fmt.Sprint(i, convName(p)))
		}
	})
}

// winogradCases are 3×3 stride-1 shapes that take the Winograd path:
// odd output sizes (partial tiles), unusual pads, channel counts that are
// not multiples of the microkernel's strip or of a patch chunk, more than
// one k block, tiles of one block spanning images, one-block products.
var winogradCases = []ConvParams{
	{N: 2, C: 16, H: 9, W: 7, K: 16, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 17, H: 10, W: 10, K: 29, R: 3, S: 3},                                     // no pad
	{N: 3, C: 20, H: 5, W: 6, K: 18, R: 3, S: 3, PadT: 2, PadL: 0, PadB: 1, PadR: 2},   // asymmetric
	{N: 1, C: 300, H: 8, W: 10, K: 40, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, // two k blocks
	{N: 5, C: 64, H: 4, W: 4, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},   // 4 tiles an image
	{N: 1, C: 256, H: 8, W: 8, K: 256, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, // 16 tiles: one block
	{N: 2, C: 32, H: 33, W: 35, K: 48, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}, // many blocks
	{N: 1, C: 24, H: 3, W: 70, K: 20, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},  // rows wider than a panel
	{N: 9, C: 16, H: 2, W: 3, K: 16, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},   // one-row images
	{N: 1, C: 40, H: 40, W: 9, K: 100, R: 3, S: 3, PadT: 0, PadL: 2, PadB: 2, PadR: 0}, // shifted
}

// TestWinogradMatchesReference runs the Winograd path (and, to be sure
// it is the one taken, checks the dispatch) against the reference, forward
// and through the stride-1 data gradient, with and without pre-packing,
// and the filter gradient (twice: it must not vary from run to run; the
// 256-channel case takes its Winograd path, checked in
// TestWinogradFilterPath).
func TestWinogradMatchesReference(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for i, p := range winogradCases {
			c := newConv("test", p)
			if activeKernel != nil {
				require.True(t, c.winograd(), convName(p))
			}
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			bias := randSlice(rng, p.K)
			var res []float32
			if i%2 == 0 {
				res = randSlice(rng, p.N*p.K*oh*ow)
			}
			act := Activation(i % 2)
			want := refConv(p, x, w, bias, act, res)
			y := randSlice(rng, p.N*p.K*oh*ow)
			Conv2DOpts(p, x, w, y, ConvOpts{Bias: bias, Residual: res, Act: act})
			requireClose(t, want, y, p.C*9, "forward "+convName(p))

			y = randSlice(rng, p.N*p.K*oh*ow)
			NewPackedConv(p, w).Conv2D(p.N, x, y, ConvOpts{Bias: bias, Residual: res, Act: act})
			requireClose(t, want, y, p.C*9, "packed "+convName(p))

			dy := randSlice(rng, p.N*p.K*oh*ow)
			dx := randSlice(rng, len(x))
			Conv2DBackwardData(p, dy, w, dx)
			requireClose(t, refConvBackwardData(p, dy, w), dx, p.K*9, "backward data "+convName(p))

			dw := randSlice(rng, len(w)) // garbage: must be overwritten
			Conv2DBackwardFilter(p, x, dy, dw)
			requireClose(t, refConvBackwardFilter(p, x, dy), dw, p.N*oh*ow, "backward filter "+convName(p))
			dw2 := randSlice(rng, len(w))
			Conv2DBackwardFilter(p, x, dy, dw2)
			require.Equal(t, dw, dw2, "filter gradient differs between runs: "+convName(p))
		}
	})
}

// TestWinogradAsmMatchesGo checks that the AVX-512 transforms (straight
// from and to the image) round exactly as the portable ones (through a
// patch panel and row buffers).
func TestWinogradAsmMatchesGo(t *testing.T) {
	if !hasMaskedCopy || activeKernel == nil {
		t.Skip("no AVX-512 here")
	}
	t.Cleanup(func() { hasMaskedCopy = true })
	rng := rand.New(rand.NewPCG(23, 24))
	for i, p := range winogradCases {
		oh, ow := p.OutHW()
		x, w := randConv(rng, p)
		o := ConvOpts{Bias: randSlice(rng, p.K), Act: Activation(i % 2)}
		if i%2 == 1 {
			o.Residual = randSlice(rng, p.N*p.K*oh*ow)
		}
		var ys [2][]float32
		for v := range ys {
			hasMaskedCopy = v == 0
			ys[v] = randSlice(rng, p.N*p.K*oh*ow)
			Conv2DOpts(p, x, w, ys[v], o)
		}
		hasMaskedCopy = true
		require.Equal(t, ys[1], ys[0], convName(p))
	}
}

// TestPackedConvNarrowProducts covers the row split of narrow products
// with pre-packed weights (small feature maps at batch 1): op(B) packed
// once for all cores, rows in dynamic parts, on more cores than rows
// divide evenly.
func TestPackedConvNarrowProducts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	forEachPath(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(25, 26))
		for _, p := range []ConvParams{
			{N: 1, C: 40, H: 4, W: 4, K: 100, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
			{N: 1, C: 300, H: 5, W: 5, K: 37, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
			{N: 2, C: 64, H: 2, W: 2, K: 130, R: 1, S: 1},
		} {
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			bias := randSlice(rng, p.K)
			y := randSlice(rng, p.N*p.K*oh*ow)
			NewPackedConv(p, w).Conv2D(p.N, x, y, ConvOpts{Bias: bias, Act: ActReLU})
			requireClose(t, refConv(p, x, w, bias, ActReLU, nil), y, p.C*p.R*p.S, convName(p))
		}
	})
}

// TestTransposeTo checks the blocked transpose (AVX-512 blocks and scalar
// edges) on sizes around the block size.
func TestTransposeTo(t *testing.T) {
	saved := hasMaskedCopy
	t.Cleanup(func() { hasMaskedCopy = saved })
	for _, asm := range []bool{saved, false} {
		hasMaskedCopy = asm
		for _, rows := range []int{1, 15, 16, 17, 33, 64} {
			for _, cols := range []int{1, 16, 31, 49, 64} {
				src := make([]float32, rows*cols)
				for i := range src {
					src[i] = float32(i)
				}
				dst := make([]float32, rows*cols)
				transposeTo(dst, src, rows, cols)
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						require.Equal(t, src[i*cols+j], dst[j*rows+i], "asm=%v %dx%d (%d,%d)", asm, rows, cols, i, j)
					}
				}
			}
		}
	}
}

// TestWinogradFilterPath runs the Winograd filter gradient on wide layers
// (odd tile grids, tiles of a block spanning images, pads, K ≠ C) against
// the reference, and checks that it is the path taken.
func TestWinogradFilterPath(t *testing.T) {
	if !hasMaskedCopy || activeKernel == nil {
		t.Skip("no AVX-512 here")
	}
	rng := rand.New(rand.NewPCG(27, 28))
	for _, p := range []ConvParams{
		{N: 3, C: 256, H: 5, W: 7, K: 256, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		{N: 2, C: 256, H: 9, W: 6, K: 512, R: 3, S: 3, PadT: 0, PadL: 2, PadB: 1, PadR: 0},
		{N: 5, C: 512, H: 4, W: 4, K: 256, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	} {
		c := newConv("test", p)
		require.True(t, c.winoFilterOK(), convName(p))
		oh, ow := p.OutHW()
		x := randSlice(rng, p.N*p.C*p.H*p.W)
		dy := randSlice(rng, p.N*p.K*oh*ow)
		dw := randSlice(rng, p.K*p.C*9)
		Conv2DBackwardFilter(p, x, dy, dw)
		requireClose(t, refConvBackwardFilter(p, x, dy), dw, p.N*oh*ow, convName(p))
		dw2 := randSlice(rng, len(dw))
		Conv2DBackwardFilter(p, x, dy, dw2)
		require.Equal(t, dw, dw2, "filter gradient differs between runs: "+convName(p))
	}
}

// packWino transforms the filters a block of output channels at a time;
// the packed result is the whole layer's transform packed at once, for
// layers of one block and of several with a short last one.
func TestPackWinoBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, mk := range cpuKernels {
		for _, kc := range [][2]int{{5, 3}, {70, 300}, {2*mk.mr + 1, winoFilterScratch / 16 / mk.mr}} {
			K, C := kc[0], kc[1]
			w := randSlice(rng, K*C*9)
			u := make([]float32, 16*K*C)
			winoFilters(w, 0, K*C, K*C, u)
			mpad := roundUp(K, mk.mr)
			want := make([]float32, 16*mpad*C)
			for xi := range 16 {
				packWhole(mk, want[xi*mpad*C:], u[xi*K*C:], K, C)
			}
			got := packWino(mk, w, K, C, make([]float32, 16*mpad*C))
			require.Equal(t, want, got.s, "K=%d C=%d mr=%d", K, C, mk.mr)
		}
	}
}

// TestPointwiseDirect covers 1×1 convolutions whose input the masked
// kernels read as it lies (one image per product) and products whose last
// panel is partial (the masked tails): against the reference, and equal to
// the packed path's results bit for bit, on one core and on several, with
// packed and unpacked weights.
func TestPointwiseDirect(t *testing.T) {
	if activeKernel == nil || activeKernel.masked == nil {
		t.Skip("no masked microkernel on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	cases := []ConvParams{
		{N: 1, C: 300, H: 14, W: 14, K: 37, R: 1, S: 1}, // 196 columns: 6 panels and 4; k blocks; partial strip
		{N: 1, C: 64, H: 7, W: 7, K: 50, R: 1, S: 1},    // 49 columns: a panel and 17
		{N: 2, C: 520, H: 28, W: 28, K: 24, R: 1, S: 1}, // 784 columns, one image a product
		{N: 3, C: 16, H: 13, W: 15, K: 130, R: 1, S: 1}, // 195 columns, three images side by side
		{N: 1, C: 33, H: 5, W: 9, K: 12, R: 1, S: 1},    // 45 columns
		{N: 1, C: 40, H: 20, W: 30, K: 200, R: 1, S: 1}, // 600 columns: a split by columns
		{N: 2, C: 24, H: 15, W: 15, K: 36, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, StrideH: 2, StrideW: 2},
	}
	for _, p := range cases {
		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/procs=%d", convName(p), procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				oh, ow := p.OutHW()
				x, w := randConv(rng, p)
				bias, res := randSlice(rng, p.K), randSlice(rng, p.N*p.K*oh*ow)
				o := ConvOpts{Bias: bias, Residual: res, Act: ActReLU}
				y := randSlice(rng, p.N*p.K*oh*ow)
				Conv2DOpts(p, x, w, y, o)
				requireClose(t, refConv(p, x, w, bias, ActReLU, res), y, p.C*p.R*p.S, "forward")
				yp := randSlice(rng, len(y))
				NewPackedConv(p, w).Conv2D(p.N, x, yp, o)
				assert.Equal(t, y, yp, "packed weights")
				directOn = false
				defer func() { directOn = true }()
				yd := randSlice(rng, len(y))
				NewPackedConv(p, w).Conv2D(p.N, x, yd, o)
				assert.Equal(t, y, yd, "B packed")
			})
		}
	}
}

// TestWinogradFewTiles covers Winograd blocks whose last panel holds
// four tiles or fewer (computed by the kernel's cols form): against the
// reference and bit for bit against the full-panel products, on one core
// and on several.
func TestWinogradFewTiles(t *testing.T) {
	mk := winoKernel(64)
	if mk == nil || mk.cols == nil {
		t.Skip("no cols kernel on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	pad1 := func(p ConvParams) ConvParams {
		p.R, p.S, p.PadT, p.PadL, p.PadB, p.PadR = 3, 3, 1, 1, 1, 1
		return p
	}
	cases := []ConvParams{
		pad1(ConvParams{N: 1, C: 300, H: 14, W: 14, K: 40}), // 49 tiles; two k blocks; three strips
		pad1(ConvParams{N: 1, C: 32, H: 13, W: 13, K: 70}),  // 49 tiles; five strips
		pad1(ConvParams{N: 1, C: 24, H: 12, W: 12, K: 16}),  // 36 tiles
		pad1(ConvParams{N: 1, C: 20, H: 20, W: 20, K: 33}),  // 100 tiles: blocks, the last of 4
		pad1(ConvParams{N: 3, C: 17, H: 5, W: 6, K: 64}),    // 27 tiles over three images
	}
	for _, p := range cases {
		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/procs=%d", convName(p), procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				c := newConv("test", p)
				require.True(t, c.winograd())
				oh, ow := p.OutHW()
				x, w := randConv(rng, p)
				o := ConvOpts{Bias: randSlice(rng, p.K), Residual: randSlice(rng, p.N*p.K*oh*ow), Act: ActReLU}
				y := randSlice(rng, p.N*p.K*oh*ow)
				Conv2DOpts(p, x, w, y, o)
				requireClose(t, refConv(p, x, w, o.Bias, o.Act, o.Residual), y, p.C*9, "forward")
				cols := mk.cols
				mk.cols = nil
				defer func() { mk.cols = cols }()
				y2 := randSlice(rng, len(y))
				Conv2DOpts(p, x, w, y2, o)
				assert.Equal(t, y2, y, "full panels")
			})
		}
	}
}

// TestPointwisePackRuns checks the packing of pointwise convolutions'
// patches in runs that cross output rows and images: panel for panel
// against packB over the patch matrix written out, and the convolutions
// (several images a product, k blocks, partial panels and strips) against
// the reference on one to three cores.
func TestPointwisePackRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	cases := []ConvParams{
		{N: 5, C: 20, H: 7, W: 5, K: 13, R: 1, S: 1},   // 35 positions: runs across images
		{N: 8, C: 300, H: 7, W: 7, K: 26, R: 1, S: 1},  // 49 positions, k blocks
		{N: 3, C: 40, H: 14, W: 14, K: 64, R: 1, S: 1}, // 196 positions
		{N: 9, C: 3, H: 3, W: 1, K: 5, R: 1, S: 1},     // one-column maps
		{N: 2, C: 17, H: 9, W: 11, K: 30, R: 1, S: 1},  // 99 positions
	}
	for _, p := range cases {
		c := newConv("test", p)
		x, w := randConv(rng, p)
		n := p.N * c.ohw
		b := make([]float32, p.C*n)
		for img := range p.N {
			for ci := range p.C {
				copy(b[ci*n+img*c.ohw:][:c.ohw], x[(img*p.C+ci)*c.hw:][:c.ohw])
			}
		}
		for _, nr := range []int{16, 32} {
			pc, kc := p.C/3, p.C-p.C/3
			for _, jc := range []int{0, 7, n / 2} {
				nc := n - jc
				got := make([]float32, kc*roundUp(nc, nr))
				want := make([]float32, len(got))
				c.packPatches(got, x, p.C*c.hw, pc, kc, jc, nc, nr)
				packB(want, false, b, n, pc, kc, jc, nc, nr)
				require.Equal(t, want, got, "%s nr=%d jc=%d", convName(p), nr, jc)
			}
		}
		for _, procs := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/procs=%d", convName(p), procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				bias, res := randSlice(rng, p.K), randSlice(rng, p.N*p.K*c.ohw)
				o := ConvOpts{Bias: bias, Residual: res, Act: ActReLU}
				want := refConv(p, x, w, bias, ActReLU, res)
				y := randSlice(rng, len(res))
				Conv2DOpts(p, x, w, y, o)
				requireClose(t, want, y, p.C, "Conv2D")
				yp := randSlice(rng, len(res))
				NewPackedConv(p, w).Conv2D(p.N, x, yp, o)
				requireClose(t, want, yp, p.C, "PackedConv")
			})
		}
	}
}
