package kernels

// ConvOpts are the optional epilogues of Conv2DOpts.
type ConvOpts struct {
	// Bias, when not nil, holds K values added to each output channel.
	Bias []float32
	// Residual, when not nil, is an N×K×OH×OW tensor added to the output
	// after the bias and before the activation.
	Residual []float32
	// Act is applied last.
	Act Activation
}

// Conv2D computes y = act(conv(x, w) + bias) for NCHW x (N×C×H×W), weights
// w (K×(C/Group)×R×S) and y (N×K×OH×OW). bias may be nil. y is overwritten.
func Conv2D(p ConvParams, x, w, bias, y []float32, act Activation) {
	Conv2DOpts(p, x, w, y, ConvOpts{Bias: bias, Act: act})
}

// Conv2DOpts is Conv2D with the epilogues of o (bias, residual add,
// activation) fused into the output pass.
func Conv2DOpts(p ConvParams, x, w, y []float32, o ConvOpts) {
	c := newConv("Conv2D", p)
	c.check("Conv2D", len(x), len(w), len(y))
	checkEpilogue(c, o)
	if c.depthwise() {
		conv2DDepthwise(c, x, w, y, o)
		return
	}
	if activeKernel != nil {
		var packed *PackedConv
		if c.N > 1 {
			// Pack the weights once for the whole batch, not per image.
			packed = packOnce(p, c, w)
			defer packed.release()
		}
		conv2DImplicit(c, x, w, packed, y, o)
		return
	}
	parallelImages(c.N, func(n, threads int) {
		col := c.colBuf()
		defer putBuf(col)
		for g := 0; g < c.Group; g++ {
			b := c.patches(x, n, g, col)
			sgemmThreads(threads, false, false, c.kg, c.ohw, c.crs, 1, c.filterGroup(w, g), c.crs, b, c.ohw, 0, c.outGroup(y, n, g), c.ohw)
		}
		epilogue(c, n, y, o)
	})
}

// implicitCols is the GEMM width Conv2D aims for: layers with small
// feature maps put several images side by side in one product.
const implicitCols = 512

// conv2DImplicit is Conv2D on the assembly path: implicit GEMM with
// patches packed straight from x, several images per product when the
// feature maps are small.
// When packed is not nil it supplies the weights pre-packed.
func conv2DImplicit(c conv, x, w []float32, packed *PackedConv, y []float32, o ConvOpts) {
	if c.winograd() {
		// F(4×4) only for weights packed once and kept (PackedConv): where
		// filters change from call to call (training), transforming them
		// into 36 matrices each call cost more than the products saved.
		kept := packed != nil && !packed.scratch
		if packed == nil {
			packed = packOnce(c.ConvParams, c, w)
			defer packed.release()
		}
		if mk := winoKernel(c.N * c.tiles4PerImage()); kept && c.wino4(mk) {
			conv2DWinogradF(c, mk, packed.forWino4(mk), x, y, o, true)
			return
		}
		mk := winoKernel(c.N * c.tilesPerImage())
		conv2DWinograd(c, mk, packed.forWino(mk), x, y, o)
		return
	}
	nb := 1
	if c.ohw < implicitCols {
		nb = max(1, min(c.N, implicitCols/c.ohw))
	}
	mk := kernelFor(nb * c.ohw)
	chunks := (c.N + nb - 1) / nb
	epi := o.Bias != nil || o.Residual != nil || o.Act != ActNone
	parallelImages(chunks, func(ch, threads int) {
		n0 := ch * nb
		cnt := min(nb, c.N-n0)
		cols := cnt * c.ohw
		var tmp *buf
		if cnt > 1 {
			tmp = getBuf(c.kg * cols)
			defer putBuf(tmp)
		}
		for g := 0; g < c.Group; g++ {
			src := bSource{cv: &c, x: x[(n0*c.C+g*c.cg)*c.hw:], imgStride: c.C * c.hw, oneImage: cnt == 1}
			wg := c.filterGroup(w, g)
			var pa *packedA
			if packed != nil {
				pa = packed.forKernel(mk, g)
			}
			if cnt == 1 {
				// One image: the product is y's channels of group g,
				// and the epilogue runs on its blocks as they finish.
				off := (n0*c.K + g*c.kg) * c.ohw
				yg := y[off:][:c.kg*c.ohw]
				tail := cTail{act: o.Act}
				if o.Bias != nil {
					tail.bias = o.Bias[g*c.kg:]
				}
				if o.Residual != nil {
					tail.res = o.Residual[off:][:c.kg*c.ohw]
				}
				gemmSrcThreads(mk, threads, c.kg, c.ohw, c.crs, wg, c.crs, pa, &src, 0, yg, c.ohw, tail)
				continue
			}
			gemmSrcThreads(mk, threads, c.kg, cols, c.crs, wg, c.crs, pa, &src, 0, tmp.s, cols, cTail{})
			// The product is kg × (images·positions); scatter it to NCHW,
			// applying the epilogue on the way.
			for k := 0; k < c.kg; k++ {
				var bv float32
				if o.Bias != nil {
					bv = o.Bias[g*c.kg+k]
				}
				for i := 0; i < cnt; i++ {
					off := ((n0+i)*c.K + g*c.kg + k) * c.ohw
					src := tmp.s[k*cols+i*c.ohw:][:c.ohw]
					if !epi {
						copy(y[off:off+c.ohw], src)
						continue
					}
					var res []float32
					if o.Residual != nil {
						res = o.Residual[off : off+c.ohw]
					}
					BiasAddRow(y[off:off+c.ohw], src, res, bv, o.Act)
				}
			}
		}
	})
}

func checkEpilogue(c conv, o ConvOpts) {
	if o.Bias != nil && len(o.Bias) < c.K {
		panic("kernels: Conv2D: len(bias) < K")
	}
	if o.Residual != nil && len(o.Residual) < c.N*c.K*c.ohw {
		panic("kernels: Conv2D: residual shorter than y")
	}
}

// epilogue applies bias, residual and activation to image n of y.
func epilogue(c conv, n int, y []float32, o ConvOpts) {
	epilogueRows(c, n, 0, c.K, y, o)
}

// epilogueRows is epilogue for output channels [lo, hi).
func epilogueRows(c conv, n, lo, hi int, y []float32, o ConvOpts) {
	if o.Bias == nil && o.Residual == nil && o.Act == ActNone {
		return
	}
	for k := lo; k < hi; k++ {
		off := (n*c.K + k) * c.ohw
		row := y[off : off+c.ohw]
		var bv float32
		if o.Bias != nil {
			bv = o.Bias[k]
		}
		var res []float32
		if o.Residual != nil {
			res = o.Residual[off : off+c.ohw]
		}
		BiasAddRow(row, row, res, bv, o.Act)
	}
}

// Conv2DBackwardData computes dx, the gradient of the loss with respect
// to x, from dy (N×K×OH×OW) and w. dx (N×C×H×W) is overwritten.
func Conv2DBackwardData(p ConvParams, dy, w, dx []float32) {
	c := newConv("Conv2DBackwardData", p)
	c.check("Conv2DBackwardData", len(dx), len(w), len(dy))
	if q, ok := c.transposed(); ok && activeKernel != nil && c.N > 0 {
		// Stride 1: dx is a forward convolution of dy with the flipped,
		// transposed filters, so it takes the implicit-GEMM path with
		// its packed weights and no col2im.
		ct := newConv("Conv2DBackwardData", q)
		wt := getBuf(len(w[:c.K*c.crs]))
		defer putBuf(wt)
		c.flipFilters(w, wt.s)
		packed := packOnce(q, ct, wt.s)
		defer packed.release()
		conv2DImplicit(ct, dy, wt.s, packed, dx, ConvOpts{})
		return
	}
	// Wᵀ of each group packed once for the batch, not once per image.
	var mk *microKernel
	var packs []*packedA
	if activeKernel != nil && c.N > 1 {
		mk = kernelFor(c.ohw)
		mpad := roundUp(c.crs, mk.mr)
		wt := getBuf(c.crs * c.kg)
		defer putBuf(wt)
		for g := 0; g < c.Group; g++ {
			packTrans(wt.s, w[g*c.kg*c.crs:], c.crs, c.kg, c.crs)
			b := getBuf(mpad * c.kg)
			defer putBuf(b)
			clear(b.s[:mpad*c.kg])
			packWhole(mk, b.s, wt.s, c.crs, c.kg)
			packs = append(packs, &packedA{s: b.s, mpad: mpad})
		}
	}
	parallelImages(c.N, func(n, threads int) {
		col := c.colBuf()
		defer putBuf(col)
		for g := 0; g < c.Group; g++ {
			// Wᵀ·dy is dx itself when c is pointwise, else its patch
			// matrix, folded back with col2im.
			dxg, dyg := c.inGroup(dx, n, g), c.outGroup(dy, n, g)
			out, ld := dxg, c.hw
			if !c.pointwise {
				out, ld = col.s, c.ohw
			}
			if packs != nil {
				src := bSource{b: dyg, ldb: c.ohw}
				gemmSrcThreads(mk, threads, c.crs, c.ohw, c.kg, nil, c.kg, packs[g], &src, 0, out, ld, cTail{})
			} else {
				sgemmThreads(threads, true, false, c.crs, c.ohw, c.kg, 1, c.filterGroup(w, g), c.crs, dyg, c.ohw, 0, out, ld)
			}
			if !c.pointwise {
				clear(dxg)
				c.col2im(col.s, dxg)
			}
		}
	})
}

// Conv2DBackwardFilter computes dw (K×(C/Group)×R×S), the gradient of the
// loss with respect to w, from x and dy, summed over the batch. dw is
// overwritten, not accumulated into.
func Conv2DBackwardFilter(p ConvParams, x, dy, dw []float32) {
	c := newConv("Conv2DBackwardFilter", p)
	c.check("Conv2DBackwardFilter", len(x), len(dw), len(dy))
	dw = dw[:c.K*c.crs]
	if c.N == 0 {
		clear(dw)
		return
	}
	if c.winoFilterOK() {
		c.backwardFilterWino(x, dy, dw)
		return
	}
	if activeKernel != nil && c.dotFilterOK() {
		c.backwardFilterDot(x, dy, dw)
		return
	}
	// Each worker sums its images into its own copy; the copies are added
	// at the end. With one image the GEMMs get all cores instead.
	t := min(maxProcs(), c.N)
	parts := make([]*buf, t)
	for i := range parts {
		if i == 0 {
			parts[i] = &buf{s: dw}
			continue
		}
		parts[i] = getBuf(len(dw))
	}
	for i := range parts {
		clear(parts[i].s)
	}
	mk := kernelFor(c.crs)
	parallelWorkers(t, c.N, func(wid, n, threads int) {
		acc := parts[wid].s
		if mk != nil {
			// Implicit GEMM: transposed patches packed straight from x.
			for g := 0; g < c.Group; g++ {
				src := bSource{cv: &c, x: c.inGroup(x, n, g), transpose: true}
				gemmSrcThreads(mk, threads, c.kg, c.crs, c.ohw, c.outGroup(dy, n, g), c.ohw, nil, &src, 1, acc[g*c.kg*c.crs:], c.crs, cTail{})
			}
			return
		}
		col := c.colBuf()
		defer putBuf(col)
		for g := 0; g < c.Group; g++ {
			b := c.patches(x, n, g, col)
			sgemmThreads(threads, false, true, c.kg, c.crs, c.ohw, 1, c.outGroup(dy, n, g), c.ohw, b, c.ohw, 1, acc[g*c.kg*c.crs:], c.crs)
		}
	})
	for _, part := range parts[1:] {
		for i, v := range part.s {
			dw[i] += v
		}
		putBuf(part)
	}
}

// transposed returns the convolution that maps dy to dx when c has
// stride 1 and no side is padded by more than the dilated kernel's reach:
// the same kernel size and dilation, K and C swapped, each pad p becoming
// dil·(R−1) − p, so that its output is H×W again.
func (c conv) transposed() (ConvParams, bool) {
	if c.StrideH != 1 || c.StrideW != 1 {
		return ConvParams{}, false
	}
	eh, ew := c.DilH*(c.R-1), c.DilW*(c.S-1)
	if c.PadT > eh || c.PadB > eh || c.PadL > ew || c.PadR > ew {
		return ConvParams{}, false
	}
	return ConvParams{N: c.N, C: c.K, H: c.oh, W: c.ow, K: c.C, R: c.R, S: c.S,
		PadT: eh - c.PadT, PadL: ew - c.PadL, PadB: eh - c.PadB, PadR: ew - c.PadR,
		DilH: c.DilH, DilW: c.DilW, Group: c.Group}, true
}

// flipFilters writes the filters of c's transposed convolution to wt:
// wt[g·cg+ci][ko][r][s] = w[g·kg+ko][ci][R−1−r][S−1−s].
func (c conv) flipFilters(w, wt []float32) {
	rs := c.R * c.S
	for g := 0; g < c.Group; g++ {
		for ko := 0; ko < c.kg; ko++ {
			for ci := 0; ci < c.cg; ci++ {
				src := w[((g*c.kg+ko)*c.cg+ci)*rs:][:rs]
				dst := wt[((g*c.cg+ci)*c.kg+ko)*rs:][:rs]
				for i, v := range src {
					dst[rs-1-i] = v
				}
			}
		}
	}
}
