package kernels

import (
	"fmt"
	"sync"
)

// PackedConv is a convolution whose weights are packed once, on first use,
// into the layout the assembly microkernels read, so calls skip repacking
// them (most of the cost of small-image layers with large weights, such as
// the last stage of a ResNet at batch 1). Its methods are safe for
// concurrent use.
type PackedConv struct {
	p ConvParams
	c conv
	w []float32 // the weights: NewPackedConv's own copy, or PackedConvOf's caller's

	mu     sync.Mutex
	packs  map[*microKernel][]*packedA // per kernel, per group; built on first use
	winos  map[*microKernel]winoPack   // Winograd filters per kernel; built on first use
	winos4 map[*microKernel]winoPack   // the same for F(4×4, 3×3)

	// scratch marks a PackedConv made for one call (see packOnce): its
	// packs come from the scratch free list and go back with release.
	scratch bool
	bufs    []*buf
}

// packOnce returns a PackedConv over w for the duration of one call: the
// weights are neither copied nor packed up front, packs are made on first
// use from scratch space, and release returns them.
func packOnce(p ConvParams, c conv, w []float32) *PackedConv {
	return &PackedConv{p: p, c: c, w: w[:c.K*c.crs], packs: make(map[*microKernel][]*packedA), scratch: true}
}

// release returns a packOnce PackedConv's packs to the scratch free list.
func (pc *PackedConv) release() {
	for _, b := range pc.bufs {
		putBuf(b)
	}
	pc.bufs, pc.packs, pc.winos, pc.winos4 = nil, nil, nil, nil
}

// forWino returns the Winograd-transformed filters packed for mk,
// packing on first use.
func (pc *PackedConv) forWino(mk *microKernel) winoPack { return pc.winoPacked(mk, false) }

// forWino4 is forWino for F(4×4, 3×3).
func (pc *PackedConv) forWino4(mk *microKernel) winoPack { return pc.winoPacked(mk, true) }

func (pc *PackedConv) winoPacked(mk *microKernel, f4 bool) winoPack {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	packs, n, pack := &pc.winos, pc.c.winoSize(mk), packWino
	if f4 {
		packs, n, pack = &pc.winos4, pc.c.wino4Size(mk), packWino4
	}
	if u, ok := (*packs)[mk]; ok {
		return u
	}
	var dst []float32
	if pc.scratch {
		b := getBuf(n)
		pc.bufs = append(pc.bufs, b)
		dst = b.s[:n]
		clear(dst) // the padding rows must be zero
	} else {
		dst = make([]float32, n)
	}
	if *packs == nil {
		*packs = make(map[*microKernel]winoPack)
	}
	u := pack(mk, pc.w, pc.c.K, pc.c.C, dst)
	(*packs)[mk] = u
	return u
}

// NewPackedConv returns p's convolution with weights w (K×(C/Group)×R×S),
// copied: later changes to w do not affect it. It panics, as Conv2D does,
// when p is invalid or w too short. The batch size p.N is ignored: Conv2D
// takes it per call. The weights are packed for a microkernel (or
// transformed for a Winograd layer) on the first call that uses it, so only
// the layouts a model's calls need are ever held.
func NewPackedConv(p ConvParams, w []float32) *PackedConv {
	pc := PackedConvOf(p, w)
	pc.w = append([]float32(nil), pc.w...)
	return pc
}

// PackedConvOf is NewPackedConv without the copy: the PackedConv reads w,
// which must not change while it is in use. The engine passes a model's
// constant weights, which nothing writes, and keeps one copy of them, not
// two.
func PackedConvOf(p ConvParams, w []float32) *PackedConv {
	q := p
	q.N = 1
	c := newConv("NewPackedConv", q)
	if len(w) < c.K*c.crs {
		panic(fmt.Sprintf("kernels: NewPackedConv: len(w)=%d, need %d", len(w), c.K*c.crs))
	}
	return &PackedConv{p: p, c: c, w: w[: c.K*c.crs : c.K*c.crs], packs: make(map[*microKernel][]*packedA)}
}

// forKernel returns group g's weights packed for mk, packing on first use.
func (pc *PackedConv) forKernel(mk *microKernel, g int) *packedA {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	groups := pc.packs[mk]
	if groups == nil {
		c := pc.c
		groups = make([]*packedA, c.Group)
		for i := range groups {
			wg := pc.w[i*c.kg*c.crs:][:c.kg*c.crs]
			mpad := roundUp(c.kg, mk.mr)
			var dst []float32
			if pc.scratch {
				b := getBuf(mpad * c.crs)
				pc.bufs = append(pc.bufs, b)
				dst = b.s[:mpad*c.crs]
				clear(dst) // the padding rows must be zero
			} else {
				dst = make([]float32, mpad*c.crs)
			}
			packWhole(mk, dst, wg, c.kg, c.crs)
			groups[i] = &packedA{s: dst, mpad: mpad}
		}
		pc.packs[mk] = groups
	}
	return groups[g]
}

// Conv2D is the package's Conv2DOpts with these weights, for a batch of n
// images: x is n×C×H×W and y n×K×OH×OW (overwritten).
func (pc *PackedConv) Conv2D(n int, x, y []float32, o ConvOpts) {
	p := pc.p
	p.N = n
	if activeKernel == nil {
		Conv2DOpts(p, x, pc.w, y, o)
		return
	}
	c := newConv("PackedConv.Conv2D", p)
	c.check("PackedConv.Conv2D", len(x), len(pc.w), len(y))
	checkEpilogue(c, o)
	if c.depthwise() {
		conv2DDepthwise(c, x, pc.w, y, o)
		return
	}
	conv2DImplicit(c, x, pc.w, pc, y, o)
}
