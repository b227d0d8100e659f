package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks report GFLOP/s (2 flops per multiply-add) as a custom metric.
// BenchmarkFMAPeak measures what the cores can do at most, for comparison:
//
//	go test -run '^$' -bench . -count 3 ./kernels/

func reportGFLOPS(b *testing.B, flopsPerOp float64) {
	b.ReportAllocs()
	b.ReportMetric(flopsPerOp*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkFMAPeak runs independent AVX-512 FMAs on every core.
func BenchmarkFMAPeak(b *testing.B) {
	if !hasFMAPeak() {
		b.Skip("no AVX-512 in this build or CPU")
	}
	const iters = 1 << 16
	for _, threads := range []int{1, maxProcs()} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for b.Loop() {
				parallelWorkers(threads, threads, func(_, _, _ int) { fmaPeakAVX512(iters) })
			}
			reportGFLOPS(b, float64(threads)*iters*24*32)
		})
	}
}

func BenchmarkSgemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{256, 512, 1024, 2048} {
		a, bb, c := randSlice(rng, n*n), randSlice(rng, n*n), make([]float32, n*n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
			}
			reportGFLOPS(b, 2*float64(n)*float64(n)*float64(n))
		})
	}
}

// BenchmarkSgemmFC times fully connected layers as the engine's Gemm runs
// them (Y = X·Wᵀ, W stored a row per output): ResNet-101's 2048→1000 and
// PreAct-ResNet18's 512→10 at small batches, on the dot path (sgemmDot)
// and on the packed path it replaced.
//
//	go test -run '^$' -bench SgemmFC ./kernels/
func BenchmarkSgemmFC(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range []struct{ m, n, k int }{{1, 1000, 2048}, {8, 1000, 2048}, {1, 10, 512}, {16, 10, 512}} {
		a, w, c := randSlice(rng, s.m*s.k), randSlice(rng, s.n*s.k), make([]float32, s.m*s.n)
		b.Run(fmt.Sprintf("m=%d_n=%d_k=%d/dot", s.m, s.n, s.k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, true, s.m, s.n, s.k, 1, a, s.k, w, s.k, 0, c, s.n)
			}
			reportGFLOPS(b, 2*float64(s.m*s.n*s.k))
		})
		b.Run(fmt.Sprintf("m=%d_n=%d_k=%d/packed", s.m, s.n, s.k), func(b *testing.B) {
			for b.Loop() {
				sgemmThreads(workers(s.m, s.n, s.k), false, true, s.m, s.n, s.k, 1, a, s.k, w, s.k, 0, c, s.n)
			}
			reportGFLOPS(b, 2*float64(s.m*s.n*s.k))
		})
	}
}

// resnetLayers are the distinct convolutions of PreAct-ResNet18 on 32×32
// input: the stem, the 3×3 convs of each stage (first with stride 2) and
// the 1×1 stride-2 shortcuts.
var resnetLayers = []struct {
	name string
	p    ConvParams
}{
	{"stem3x3_3to64", ConvParams{C: 3, H: 32, W: 32, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	{"l1_3x3_64", ConvParams{C: 64, H: 32, W: 32, K: 64, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	{"l2_3x3_64to128_s2", ConvParams{C: 64, H: 32, W: 32, K: 128, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	{"l2_3x3_128", ConvParams{C: 128, H: 16, W: 16, K: 128, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	{"l2_1x1_64to128_s2", ConvParams{C: 64, H: 32, W: 32, K: 128, R: 1, S: 1, StrideH: 2, StrideW: 2}},
	{"l3_3x3_256", ConvParams{C: 256, H: 8, W: 8, K: 256, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
	{"l4_3x3_512", ConvParams{C: 512, H: 4, W: 4, K: 512, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1}},
}

func convFlops(p ConvParams) float64 {
	q := p.norm()
	oh, ow := p.OutHW()
	return 2 * float64(p.N*p.K*oh*ow) * float64(p.C/q.Group*p.R*p.S)
}

// benchOperands returns p for a batch of n images with random input,
// weights and bias, and its output.
func benchOperands(rng *rand.Rand, p ConvParams, n int) (q ConvParams, x, w, y, bias []float32) {
	p.N = n
	oh, ow := p.OutHW()
	x, w = randConv(rng, p)
	return p, x, w, make([]float32, p.N*p.K*oh*ow), randSlice(rng, p.K)
}

func BenchmarkConv2D(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, batch := range []int{1, 64} {
		for _, l := range resnetLayers {
			p, x, w, y, bias := benchOperands(rng, l.p, batch)
			b.Run(fmt.Sprintf("N=%d/%s", batch, l.name), func(b *testing.B) {
				for b.Loop() {
					Conv2D(p, x, w, bias, y, ActReLU)
				}
				reportGFLOPS(b, convFlops(p))
			})
			pc := NewPackedConv(p, w)
			b.Run(fmt.Sprintf("packed/N=%d/%s", batch, l.name), func(b *testing.B) {
				for b.Loop() {
					pc.Conv2D(batch, x, y, ConvOpts{Bias: bias, Act: ActReLU})
				}
				reportGFLOPS(b, convFlops(p))
			})
			if c := newConv("bench", p); !c.winograd() {
				continue
			}
			// The same layer on the direct path, for comparison (GFLOP/s
			// count the direct path's multiply-adds in both).
			b.Run(fmt.Sprintf("packed-direct/N=%d/%s", batch, l.name), func(b *testing.B) {
				winogradOn = false
				defer func() { winogradOn = true }()
				for b.Loop() {
					pc.Conv2D(batch, x, y, ConvOpts{Bias: bias, Act: ActReLU})
				}
				reportGFLOPS(b, convFlops(p))
			})
		}
	}
}

func BenchmarkConv2DBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, l := range resnetLayers[1:4] {
		p := l.p
		p.N = 64
		oh, ow := p.OutHW()
		x, w := randConv(rng, p)
		dy := randSlice(rng, p.N*p.K*oh*ow)
		dx, dw := make([]float32, len(x)), make([]float32, len(w))
		b.Run("data/N=64/"+l.name, func(b *testing.B) {
			for b.Loop() {
				Conv2DBackwardData(p, dy, w, dx)
			}
			reportGFLOPS(b, convFlops(p))
		})
		b.Run("filter/N=64/"+l.name, func(b *testing.B) {
			for b.Loop() {
				Conv2DBackwardFilter(p, x, dy, dw)
			}
			reportGFLOPS(b, convFlops(p))
		})
	}
}

// BenchmarkDepthwise is a MobileNet-style 3×3 depthwise layer at batch 1.
func BenchmarkDepthwise(b *testing.B) {
	p := ConvParams{N: 1, C: 128, H: 56, W: 56, K: 128, R: 3, S: 3, PadT: 1, PadL: 1, PadB: 1, PadR: 1, Group: 128}
	x, w, y := make([]float32, 128*56*56), make([]float32, 128*9), make([]float32, 128*56*56)
	for b.Loop() {
		Conv2D(p, x, w, nil, y, ActReLU)
	}
	reportGFLOPS(b, float64(2*128*56*56*9))
}

// BenchmarkChainBatch1 runs PreAct-ResNet18's convolutions at batch 1 one
// after the other, as the engine does, with the spinning helpers and with
// plain goroutines (every fork then waits for a thread to wake):
//
//	go test -run '^$' -bench ChainBatch1 -count 5 ./kernels/
func BenchmarkChainBatch1(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	var layers []ConvParams
	for _, i := range []int{0, 1, 1, 1, 1, 2, 4, 3, 3, 3} {
		layers = append(layers, resnetLayers[i].p)
	}
	layers = append(layers, ConvParams{C: 128, H: 16, W: 16, K: 256, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		resnetLayers[5].p, resnetLayers[5].p, resnetLayers[5].p,
		ConvParams{C: 256, H: 8, W: 8, K: 512, R: 3, S: 3, StrideH: 2, StrideW: 2, PadT: 1, PadL: 1, PadB: 1, PadR: 1},
		resnetLayers[6].p, resnetLayers[6].p, resnetLayers[6].p)
	var pcs []*PackedConv
	var xs, ys [][]float32
	for _, p := range layers {
		p.N = 1
		oh, ow := p.OutHW()
		pcs = append(pcs, NewPackedConv(p, randSlice(rng, p.K*p.C*p.R*p.S)))
		xs = append(xs, randSlice(rng, p.C*p.H*p.W))
		ys = append(ys, make([]float32, p.K*oh*ow))
	}
	for _, spin := range []bool{true, false} {
		b.Run(fmt.Sprintf("helpers=%v", spin), func(b *testing.B) {
			spinHelpers = spin
			defer func() { spinHelpers = true }()
			for b.Loop() {
				for i, pc := range pcs {
					pc.Conv2D(1, xs[i], ys[i], ConvOpts{Act: ActReLU})
				}
			}
		})
	}
}

// resnet101Layers are the distinct convolutions of torchvision's
// ResNet-101 at 224×224, each with how many times the network runs it.
var resnet101Layers = []struct {
	name  string
	count int
	p     ConvParams
}{
	{"stem7x7_s2", 1, ConvParams{C: 3, H: 224, W: 224, K: 64, R: 7, S: 7, StrideH: 2, StrideW: 2, PadT: 3, PadL: 3, PadB: 3, PadR: 3}},
	{"l1_1x1_64to64", 1, layerConv(64, 56, 64, 1, 1)},
	{"l1_1x1_256to64", 2, layerConv(256, 56, 64, 1, 1)},
	{"l1_3x3_64", 3, layerConv(64, 56, 64, 3, 1)},
	{"l1_1x1_64to256", 4, layerConv(64, 56, 256, 1, 1)},
	{"l2_1x1_256to128_56", 1, layerConv(256, 56, 128, 1, 1)},
	{"l2_3x3_128_s2", 1, layerConv(128, 56, 128, 3, 2)},
	{"l2_1x1_256to512_s2", 1, layerConv(256, 56, 512, 1, 2)},
	{"l2_1x1_512to128", 3, layerConv(512, 28, 128, 1, 1)},
	{"l2_3x3_128", 3, layerConv(128, 28, 128, 3, 1)},
	{"l2_1x1_128to512", 4, layerConv(128, 28, 512, 1, 1)},
	{"l3_1x1_512to256_28", 1, layerConv(512, 28, 256, 1, 1)},
	{"l3_3x3_256_s2", 1, layerConv(256, 28, 256, 3, 2)},
	{"l3_1x1_512to1024_s2", 1, layerConv(512, 28, 1024, 1, 2)},
	{"l3_1x1_1024to256", 22, layerConv(1024, 14, 256, 1, 1)},
	{"l3_3x3_256", 22, layerConv(256, 14, 256, 3, 1)},
	{"l3_1x1_256to1024", 23, layerConv(256, 14, 1024, 1, 1)},
	{"l4_1x1_1024to512_14", 1, layerConv(1024, 14, 512, 1, 1)},
	{"l4_3x3_512_s2", 1, layerConv(512, 14, 512, 3, 2)},
	{"l4_1x1_1024to2048_s2", 1, layerConv(1024, 14, 2048, 1, 2)},
	{"l4_1x1_2048to512", 2, layerConv(2048, 7, 512, 1, 1)},
	{"l4_3x3_512", 2, layerConv(512, 7, 512, 3, 1)},
	{"l4_1x1_512to2048", 3, layerConv(512, 7, 2048, 1, 1)},
}

// layerConv is a c→k convolution of an hw×hw map with an r×r kernel
// (padded to keep the size at stride 1) and the given stride.
func layerConv(c, hw, k, r, stride int) ConvParams {
	pad := r / 2
	return ConvParams{C: c, H: hw, W: hw, K: k, R: r, S: r, StrideH: stride, StrideW: stride, PadT: pad, PadL: pad, PadB: pad, PadR: pad}
}

// BenchmarkResNet101Layers times each distinct convolution of ResNet-101
// with packed weights, bias and ReLU, as the engine runs it; ms/net is the
// layer's share of one forward pass (time × count), cpu-ns/op the CPU time
// a call took (with GOMAXPROCS=1, its work, however busy the machine):
//
//	GOMAXPROCS=1 go test -run '^$' -bench ResNet101Layers/N=1 ./kernels/
func BenchmarkResNet101Layers(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, batch := range []int{1, 8} {
		for _, l := range resnet101Layers {
			p, x, w, y, bias := benchOperands(rng, l.p, batch)
			pc := NewPackedConv(p, w)
			b.Run(fmt.Sprintf("N=%d/%s", batch, l.name), func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					pc.Conv2D(batch, x, y, ConvOpts{Bias: bias, Act: ActReLU})
				}
				reportGFLOPS(b, convFlops(p))
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(l.count)*b.Elapsed().Seconds()*1e3/float64(b.N), "ms/net")
			})
		}
	}
}

// BenchmarkResNet101Stage3 runs ResNet-101's 14×14 stage at batch 1 (22
// bottleneck blocks: 1024→256 1×1, 3×3 256, 256→1024 1×1 with the residual,
// each block's output the next one's input) as the engine does: "cold" with
// each block's own weights (100 MB, from memory every pass, as in a served
// model), "hot" with the first block's weights 22 times (in cache). Against
// BenchmarkResNet101Layers (the same layers called on their own) it shows
// what the chain costs: each layer reads the last one's output, which the
// other cores wrote.
//
//	GOMAXPROCS=2 go test -run '^$' -bench ResNet101Stage3 ./kernels/
func BenchmarkResNet101Stage3(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	const blocks = 22
	reduce, conv3, expand := layerConv(1024, 14, 256, 1, 1), layerConv(256, 14, 256, 3, 1), layerConv(256, 14, 1024, 1, 1)
	type block struct{ r, c, e *PackedConv }
	var all []block
	for range blocks {
		_, wr := randConv(rng, reduce)
		_, wc := randConv(rng, conv3)
		_, we := randConv(rng, expand)
		all = append(all, block{NewPackedConv(reduce, wr), NewPackedConv(conv3, wc), NewPackedConv(expand, we)})
	}
	x := randSlice(rng, 1024*196)
	t1, t2, out := make([]float32, 256*196), make([]float32, 256*196), make([]float32, 1024*196)
	bias := randSlice(rng, 1024)
	run := func(bl block) {
		bl.r.Conv2D(1, x, t1, ConvOpts{Bias: bias[:256], Act: ActReLU})
		bl.c.Conv2D(1, t1, t2, ConvOpts{Bias: bias[:256], Act: ActReLU})
		bl.e.Conv2D(1, t2, out, ConvOpts{Bias: bias, Residual: x, Act: ActReLU})
		x, out = out, x
	}
	for _, bl := range all {
		run(bl) // pack every layer's weights (PackedConv does it on first use)
	}
	var flops float64
	for _, p := range []ConvParams{reduce, conv3, expand} {
		p.N = 1
		flops += blocks * convFlops(p)
	}
	for _, mode := range []string{"cold", "hot"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				for i := range blocks {
					if mode == "cold" {
						run(all[i])
					} else {
						run(all[0])
					}
				}
			}
			reportGFLOPS(b, flops)
		})
	}
}
