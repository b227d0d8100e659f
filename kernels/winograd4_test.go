package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// winograd4Cases are 3×3 stride-1 shapes that take F(4×4, 3×3): output
// sizes that are not multiples of 4 (partial tiles down and across), tile
// rows longer than a 16-tile run and shorter, asymmetric and no padding,
// channel counts past a multiple of 16 and of a k block, tiles of a block
// spanning images, more output channels than a part.
var winograd4Cases = []ConvParams{
	{N: 4, C: 64, H: 16, W: 16, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 2, C: 64, H: 33, W: 35, K: 80, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 72, H: 40, W: 29, K: 100, R: 3, S: 3, PadT: 0, PadL: 2, PadB: 2, PadR: 0},
	{N: 6, C: 65, H: 14, W: 14, K: 67, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
	{N: 1, C: 64, H: 70, W: 70, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},  // 18 tiles a row
	{N: 2, C: 96, H: 23, W: 41, K: 64, R: 3, S: 3},                                      // no pad: 21×39
	{N: 1, C: 300, H: 34, W: 34, K: 70, R: 3, S: 3, PadT: 2, PadL: 0, PadB: 1, PadR: 2}, // two k blocks
	{N: 64, C: 64, H: 4, W: 4, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},   // a tile an image
	{N: 16, C: 128, H: 7, W: 7, K: 144, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
}

// TestWinograd4MatchesReference runs F(4×4, 3×3) (and checks that it is
// the path taken) against the reference convolution with every epilogue,
// through PackedConv, on one to three threads, and reports its largest
// error beside F(2×2)'s, which Conv2DOpts (filters packed for the call)
// takes.
func TestWinograd4MatchesReference(t *testing.T) {
	if !hasMaskedCopy || winoKernel(16).nr != 16 {
		t.Skip("F(4×4, 3×3) needs AVX-512")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(41, 42))
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		for i, p := range winograd4Cases {
			c := newConv("test", p)
			require.True(t, c.winograd() && c.wino4(winoKernel(c.N*c.tiles4PerImage())), convName(p))
			oh, ow := p.OutHW()
			x, w := randConv(rng, p)
			o := ConvOpts{Act: Activation(i % 2)}
			if i%3 != 1 {
				o.Bias = randSlice(rng, p.K)
			}
			if i%2 == 0 {
				o.Residual = randSlice(rng, p.N*p.K*oh*ow)
			}
			want := refConv(p, x, w, o.Bias, o.Act, o.Residual)
			y4 := randSlice(rng, p.N*p.K*oh*ow)
			NewPackedConv(p, w).Conv2D(p.N, x, y4, o)
			requireClose(t, want, y4, p.C*9, "F(4×4) "+convName(p))

			// Filters transformed for one call only (training) take
			// F(2×2): F(4×4)'s transform costs more than it saves there.
			y2 := randSlice(rng, p.N*p.K*oh*ow)
			Conv2DOpts(p, x, w, y2, o)
			requireClose(t, want, y2, p.C*9, "F(2×2) "+convName(p))
			wino4On = false
			y := randSlice(rng, p.N*p.K*oh*ow)
			NewPackedConv(p, w).Conv2D(p.N, x, y, o)
			wino4On = true
			require.Equal(t, y2, y, "Conv2DOpts is F(2×2) "+convName(p))
			if procs == 1 {
				t.Logf("%s: largest error F(4×4) %.2g, F(2×2) %.2g", convName(p), maxAbsDiff(want, y4), maxAbsDiff(want, y2))
			}
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// BenchmarkWinograd4 times the 3×3 stride-1 layers of PreAct-ResNet18 and
// ResNet-101 on F(4×4, 3×3) and on F(2×2, 3×3) in turn (GFLOP/s count
// the direct method's multiply-adds in both):
//
//	go test -run '^$' -bench Winograd4 ./kernels/
func BenchmarkWinograd4(b *testing.B) {
	rng := rand.New(rand.NewPCG(43, 44))
	layers := []struct {
		name string
		p    ConvParams
	}{}
	stride1 := func(p ConvParams) bool {
		p.N = 64
		c := newConv("bench", p)
		return c.winograd()
	}
	for _, l := range resnetLayers {
		if stride1(l.p) {
			layers = append(layers, struct {
				name string
				p    ConvParams
			}{"preact_" + l.name, l.p})
		}
	}
	for _, l := range resnet101Layers {
		if stride1(l.p) {
			layers = append(layers, struct {
				name string
				p    ConvParams
			}{"resnet101_" + l.name, l.p})
		}
	}
	for _, batch := range []int{1, 8, 64} {
		for _, l := range layers {
			if batch == 64 && strings.HasPrefix(l.name, "resnet") || batch == 8 && strings.HasPrefix(l.name, "preact") {
				continue
			}
			p, x, w, y, bias := benchOperands(rng, l.p, batch)
			pc := NewPackedConv(p, w)
			for _, f4 := range []bool{true, false} {
				name := "f2"
				if f4 {
					name = "f4"
				}
				b.Run(fmt.Sprintf("N=%d/%s/%s", batch, l.name, name), func(b *testing.B) {
					wino4On = f4
					defer func() { wino4On = true }()
					pc.Conv2D(batch, x, y, ConvOpts{Bias: bias, Act: ActReLU}) // pack outside the timing
					b.ResetTimer()
					for b.Loop() {
						pc.Conv2D(batch, x, y, ConvOpts{Bias: bias, Act: ActReLU})
					}
					reportGFLOPS(b, convFlops(p))
				})
			}
		}
	}
}
