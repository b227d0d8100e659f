package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/fmixzoo/zoo/kernels"
)

// window2d is the geometry shared by 2-D convolution and pooling (1-D
// inputs are planned as H = 1).
type window2d struct {
	kh, kw, sh, sw, dh, dw int
	pt, pl, pb, pr         int
	h, w, oh, ow           int
}

// windowND is the geometry of an N-D window over spatial dimensions.
type windowND struct {
	kernel, strides, dil, padBegin, padEnd, in, out []int
}

func (c *opCtx) window(a attrs, spatial []int, kernel []int, ceil bool) (window2d, error) {
	nd := len(spatial)
	if nd < 1 || nd > 2 {
		return window2d{}, fmt.Errorf("%d-D windows are not supported here (1-D and 2-D are)", nd)
	}
	w, err := c.windowND(a, spatial, kernel, ceil)
	if err != nil {
		return window2d{}, err
	}
	g := window2d{kh: 1, kw: w.kernel[nd-1], sh: 1, sw: w.strides[nd-1], dh: 1, dw: w.dil[nd-1],
		pl: w.padBegin[nd-1], pr: w.padEnd[nd-1], h: 1, w: spatial[nd-1], oh: 1, ow: w.out[nd-1]}
	if nd == 2 {
		g.kh, g.sh, g.dh, g.pt, g.pb, g.h, g.oh = w.kernel[0], w.strides[0], w.dil[0], w.padBegin[0], w.padEnd[0], spatial[0], w.out[0]
	}
	return g, nil
}

func (c *opCtx) windowND(a attrs, spatial []int, kernel []int, ceil bool) (windowND, error) {
	nd := len(spatial)
	get := func(name string, n int, def int64) ([]int, error) {
		v, ok := a.ints(name)
		if !ok {
			out := make([]int, n)
			for i := range out {
				out[i] = int(def)
			}
			return out, nil
		}
		if len(v) != n {
			return nil, fmt.Errorf("attribute %s has %d values, want %d", name, len(v), n)
		}
		out := make([]int, n)
		for i, x := range v {
			if x > maxWindow || x < -maxWindow {
				return nil, fmt.Errorf("%w: attribute %s value %d (at most %d)", errTooLarge, name, x, maxWindow)
			}
			out[i] = int(x)
		}
		return out, nil
	}
	strides, err := get("strides", nd, 1)
	if err != nil {
		return windowND{}, err
	}
	dil, err := get("dilations", nd, 1)
	if err != nil {
		return windowND{}, err
	}
	pads, err := get("pads", 2*nd, 0)
	if err != nil {
		return windowND{}, err
	}
	for i := 0; i < nd; i++ {
		if kernel[i] > maxWindow {
			return windowND{}, fmt.Errorf("%w: kernel %v", errTooLarge, kernel)
		}
		if strides[i] < 1 || dil[i] < 1 || kernel[i] < 1 || pads[i] < 0 || pads[i+nd] < 0 {
			return windowND{}, errors.New("kernel, strides and dilations must be positive and pads non-negative")
		}
	}
	out := make([]int, nd)
	autoPad := a.str("auto_pad", "NOTSET")
	for i := 0; i < nd; i++ {
		ext := (kernel[i]-1)*dil[i] + 1
		switch autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out[i] = (spatial[i] + strides[i] - 1) / strides[i]
			total := max(0, (out[i]-1)*strides[i]+ext-spatial[i])
			small, big := total/2, total-total/2
			if autoPad == "SAME_UPPER" {
				pads[i], pads[i+nd] = small, big
			} else {
				pads[i], pads[i+nd] = big, small
			}
			continue
		case "VALID":
			pads[i], pads[i+nd] = 0, 0
		case "NOTSET", "":
		default:
			return windowND{}, fmt.Errorf("auto_pad %q", autoPad)
		}
		num := spatial[i] + pads[i] + pads[i+nd] - ext
		if num < 0 {
			return windowND{}, fmt.Errorf("window %d larger than padded input %d", ext, spatial[i]+pads[i]+pads[i+nd])
		}
		out[i] = num/strides[i] + 1
		if ceil && num%strides[i] != 0 {
			out[i]++
			if (out[i]-1)*strides[i] >= spatial[i]+pads[i] {
				out[i]--
			}
		}
	}
	return windowND{kernel: kernel, strides: strides, dil: dil, padBegin: pads[:nd], padEnd: pads[nd:], in: spatial, out: out}, nil
}

func (g window2d) outShape(n, c int, nd int) []int {
	if nd == 1 {
		return []int{n, c, g.ow}
	}
	return []int{n, c, g.oh, g.ow}
}

func conv(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	var res, pad *value
	if c.node.residual && len(in) >= 4 {
		res = in[3]
		if len(in) == 5 { // Conv + Concat(res, pad) along the channels (see fusePaddedResidual)
			pad = in[4]
		}
		in = in[:3]
	}
	x, w := in[0], in[1]
	var b *value
	if len(in) > 2 {
		b = in[2]
	}
	if len(x.shape) < 3 || len(x.shape) != len(w.shape) {
		return nil, fmt.Errorf("input %v and weight %v ranks differ or are below 3", x.shape, w.shape)
	}
	group := int(a.int("group", 1))
	n, cin := x.shape[0], x.shape[1]
	m := w.shape[0]
	if group < 1 || cin%group != 0 || m%group != 0 || w.shape[1] != cin/group {
		return nil, fmt.Errorf("weight %v does not fit input %v with group %d", w.shape, x.shape, group)
	}
	if b != nil && (len(b.shape) != 1 || b.shape[0] != m) {
		return nil, fmt.Errorf("bias shape %v, want [%d]", b.shape, m)
	}
	kernel := w.shape[2:]
	if ks, ok := a.ints("kernel_shape"); ok {
		if len(ks) != len(kernel) {
			return nil, fmt.Errorf("kernel_shape %v does not match weight %v", ks, w.shape)
		}
		for i, k := range ks {
			if int(k) != kernel[i] {
				return nil, fmt.Errorf("kernel_shape %v does not match weight %v", ks, w.shape)
			}
		}
	}
	g, err := c.window(a, x.shape[2:], kernel, false)
	if err != nil {
		return nil, err
	}
	out := g.outShape(n, m, len(x.shape)-2)
	krows := cin / group * g.kh * g.kw
	// The kernels' pure-Go path packs a krows×(oh·ow) patch matrix: bound
	// it before any run allocates it (each factor is bounded, so the
	// product cannot overflow).
	if _, err := checkedSize([]int{krows, g.oh * g.ow}); err != nil {
		return nil, fmt.Errorf("convolution patch matrix: %w", err)
	}
	if err := c.checkFold(in, float64(n)*float64(m)*float64(krows)*float64(g.oh*g.ow)); err != nil {
		return nil, err
	}
	// An empty input (no channels, or a spatial size of 0 padded to a
	// window) gives an output of bias alone; kernels.Conv2D takes neither.
	empty := shapeSize(x.shape) == 0 || shapeSize(out) == 0
	prefix := 0 // res's channels, when it is added into the leading channels only
	if pad != nil {
		if !empty && !res.konst && padsToZeros(res, pad, out) {
			prefix = res.shape[1]
		} else {
			r, err := ops["Concat"](c, attrs{"axis": int64(1)}, []*value{res, pad})
			if err != nil {
				return nil, err
			}
			res = r[0]
		}
	}
	if res != nil && prefix == 0 && (empty || res.konst || !slices.Equal(res.shape, out)) {
		// The fused residual does not fit this geometry: Conv, Add, Relu.
		node := c.node
		c.node.residual, c.node.relu = false, false
		y, err := conv(c, a, in)
		c.node = node
		if err != nil {
			return nil, err
		}
		if y, err = ops["Add"](c, nil, []*value{y[0], res}); err != nil || !node.relu {
			return y, err
		}
		return ops["Relu"](c, nil, y)
	}
	act := kernels.ActNone
	if c.node.relu {
		act = kernels.ActReLU
	}
	var fn func(d [][]float32, y []float32)
	if empty {
		ohw := g.oh * g.ow
		fn = func(d [][]float32, y []float32) {
			for i := 0; i < n*m; i++ {
				var v float32
				if len(d) > 2 {
					v = d[2][i%m]
				}
				if act == kernels.ActReLU {
					v = max(v, 0)
				}
				row := y[i*ohw : (i+1)*ohw]
				for j := range row {
					row[j] = v
				}
			}
		}
	} else {
		kp := kernels.ConvParams{N: n, C: cin, H: g.h, W: g.w, K: m, R: g.kh, S: g.kw,
			StrideH: g.sh, StrideW: g.sw, PadT: g.pt, PadL: g.pl, PadB: g.pb, PadR: g.pr,
			DilH: g.dh, DilW: g.dw, Group: group}
		// Constant weights are packed for the microkernels once (on the
		// first call that uses each layout), not on every call, and read
		// in place: nothing writes a model's constants.
		var packed *kernels.PackedConv
		if w.konst {
			packed = kernels.PackedConvOf(kp, w.floats())
		}
		fn = func(d [][]float32, y []float32) {
			o := kernels.ConvOpts{Act: act}
			if len(d) > 2 {
				o.Bias = d[2]
			}
			if len(d) > 3 && prefix == 0 {
				o.Residual = d[3]
			}
			if prefix > 0 {
				o.Act = kernels.ActNone // after the shortcut's add
			}
			if packed != nil {
				packed.Conv2D(n, d[0], y, o)
			} else {
				kernels.Conv2DOpts(kp, d[0], d[1], y, o)
			}
			if prefix > 0 {
				addLeadingChannels(y, d[3], n, m*g.oh*g.ow, prefix*g.oh*g.ow, act)
			}
		}
	}
	args := []*value{x, w}
	if b != nil || res != nil {
		args = append(args, b)
	}
	if res != nil {
		args = append(args, res)
	}
	y := c.emitFull("Conv", args, out, fn)
	if res == nil && act == kernels.ActNone && g.kh*g.kw*g.sh*g.sw == 1 && g.pt+g.pl+g.pb+g.pr == 0 && y.step != nil {
		y.pointwise = &pointwise{node: c.node, a: a, in: in}
	}
	return []*value{y}, nil
}

// padsToZeros reports whether Concat(res, pad) along the channels is res
// padded with zeros to out's shape.
func padsToZeros(res, pad *value, out []int) bool {
	r := len(out)
	if len(res.shape) != r || len(pad.shape) != r || !pad.konst || pad.isInt ||
		res.shape[0] != out[0] || pad.shape[0] != out[0] || res.shape[1]+pad.shape[1] != out[1] ||
		!slices.Equal(res.shape[2:], out[2:]) || !slices.Equal(pad.shape[2:], out[2:]) {
		return false
	}
	for _, v := range pad.f {
		if v != 0 {
			return false
		}
	}
	return true
}

// addLeadingChannels adds res (n images of lead floats) into the first
// lead floats of each of y's n images of per floats, then applies act to
// all of y. Each image's lead is cut into parts the processors share, so
// that a single image is split too.
func addLeadingChannels(y, res []float32, n, per, lead int, act kernels.Activation) {
	const part = 1 << 13 // floats
	parts := max(1, lead/part)
	kernels.ParallelRange(n*parts, n*per, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			i, j := p/parts, p%parts
			img, r := y[i*per:(i+1)*per], res[i*lead:(i+1)*lead]
			a, b := j*lead/parts, (j+1)*lead/parts
			kernels.BiasAddRow(img[a:b], img[a:b], r[a:b], 0, act)
			if act == kernels.ActReLU && j == parts-1 {
				kernels.ReLURow(img[lead:], img[lead:])
			}
		}
	})
}

func batchNorm(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 5); err != nil {
		return nil, err
	}
	x := in[0]
	if len(x.shape) < 2 {
		return nil, fmt.Errorf("input shape %v has no channel axis", x.shape)
	}
	ch := x.shape[1]
	for i := 1; i < 5; i++ {
		if in[i].size() != ch {
			return nil, fmt.Errorf("input %d has %d values for %d channels", i, in[i].size(), ch)
		}
	}
	eps := a.float("epsilon", 1e-5)
	n, inner := x.shape[0], shapeSize(x.shape[2:])
	// With constant statistics (always, for exports) the per-channel scale
	// and shift are computed once here, not on every run.
	fold := func(gamma, beta, mean, variance []float32) (scale, shift []float32) {
		scale, shift = make([]float32, ch), make([]float32, ch)
		kernels.BatchNormFold(gamma, beta, mean, variance, eps, scale, shift)
		return scale, shift
	}
	var scale, shift []float32
	if in[1].konst && in[2].konst && in[3].konst && in[4].konst {
		scale, shift = fold(in[1].floats(), in[2].floats(), in[3].floats(), in[4].floats())
	}
	act := kernels.ActNone
	if c.node.relu { // a fused Relu (see fuse)
		act = kernels.ActReLU
	}
	var y *value
	if x.parts != nil {
		y = batchNormParts(c, x, in[1:5], fold, scale, shift, act)
	} else {
		y = c.emitFull("BatchNormalization", in[:5], x.shape, func(d [][]float32, y []float32) {
			sc, sh := scale, shift
			if sc == nil {
				sc, sh = fold(d[1], d[2], d[3], d[4])
			}
			kernels.ScaleShift(n, ch, inner, d[0], sc, sh, y, act)
		})
	}
	if scale != nil && y.step != nil {
		y.affine = &channelAffine{rows: channelRowsOf(x), scale: scale, shift: shift, act: act}
	}
	return []*value{y}, nil
}

func pool(isMax bool) opFunc {
	return func(c *opCtx, a attrs, in []*value) ([]*value, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		if len(c.node.outputs) > 1 && c.node.outputs[1] != "" {
			return nil, errors.New("the Indices output is not supported")
		}
		x := in[0]
		if len(x.shape) < 3 {
			return nil, fmt.Errorf("input shape %v is not N×C×spatial", x.shape)
		}
		ks, ok := a.ints("kernel_shape")
		if !ok {
			return nil, errors.New("kernel_shape is required")
		}
		kernel := make([]int, len(ks))
		for i, k := range ks {
			kernel[i] = int(k)
		}
		if len(kernel) != len(x.shape)-2 {
			return nil, fmt.Errorf("kernel_shape %v does not fit input %v", ks, x.shape)
		}
		includePad := a.int("count_include_pad", 0) != 0
		if len(kernel) > 2 {
			return c.poolND(a, x, kernel, isMax, includePad)
		}
		ceil := a.int("ceil_mode", 0) != 0
		g, err := c.window(a, x.shape[2:], kernel, ceil)
		if err != nil {
			return nil, err
		}
		n, ch := x.shape[0], x.shape[1]
		out := g.outShape(n, ch, len(x.shape)-2)
		if err := c.checkFold(in[:1], float64(n*ch)*float64(g.oh*g.ow)*float64(g.kh*g.kw)); err != nil {
			return nil, err
		}
		if pc := x.pointwise; pc != nil && !isMax && !ceil && x.pending == 0 && g.pt+g.pl+g.pb+g.pr == 0 {
			return c.poolFirst(pc, a)
		}
		if x.affine != nil && !isMax && !ceil && x.pending == 0 && tiles(g) {
			return []*value{c.affinePool(x, g)}, nil
		}
		name := "AveragePool"
		if isMax {
			name = "MaxPool"
		}
		p := kernels.PoolParams{N: n, C: ch, H: g.h, W: g.w, R: g.kh, S: g.kw, StrideH: g.sh, StrideW: g.sw,
			PadT: g.pt, PadL: g.pl, PadB: g.pb, PadR: g.pr, DilH: g.dh, DilW: g.dw, Ceil: ceil, CountIncludePad: includePad}
		return []*value{c.emitFull(name, in[:1], out, func(d [][]float32, y []float32) {
			if isMax {
				kernels.MaxPool2D(p, d[0], y, nil)
				return
			}
			kernels.AvgPool2D(p, d[0], y)
		})}, nil
	}
}

func globalPool(isMax bool) opFunc {
	return func(c *opCtx, _ attrs, in []*value) ([]*value, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if len(x.shape) < 3 {
			return nil, fmt.Errorf("input shape %v is not N×C×spatial", x.shape)
		}
		out := []int{x.shape[0], x.shape[1]}
		for range x.shape[2:] {
			out = append(out, 1)
		}
		inner := shapeSize(x.shape[2:])
		return []*value{c.emit(c.node.op.Name, in[:1], out, func(d [][]float32, y []float32) {
			if isMax {
				kernels.GlobalMaxPool(len(y), inner, d[0], y)
				return
			}
			kernels.GlobalAvgPool(len(y), inner, d[0], y)
		})}, nil
	}
}

func gemm(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x, w := in[0], in[1]
	if len(x.shape) != 2 || len(w.shape) != 2 {
		return nil, fmt.Errorf("inputs %v and %v are not matrices", x.shape, w.shape)
	}
	ta, tb := a.int("transA", 0) != 0, a.int("transB", 0) != 0
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	m, k := x.shape[0], x.shape[1]
	if ta {
		m, k = k, m
	}
	k2, n := w.shape[0], w.shape[1]
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("inner dimensions differ: %v and %v (transA %v, transB %v)", x.shape, w.shape, ta, tb)
	}
	args := []*value{x, w}
	if err := c.checkFold(in, float64(m)*float64(n)*float64(k)); err != nil {
		return nil, err
	}
	var cs []int
	if len(in) > 2 && in[2] != nil {
		out, err := broadcast(in[2].shape, []int{m, n})
		if err != nil || !slices.Equal(out, []int{m, n}) {
			return nil, fmt.Errorf("C %v does not broadcast to %v", in[2].shape, []int{m, n})
		}
		args = append(args, in[2])
		cs = bstrides(in[2].shape, []int{m, n})
	}
	return []*value{c.emit("Gemm", args, []int{m, n}, func(d [][]float32, y []float32) {
		A, B := d[0], d[1]
		if ta {
			A = transpose2(A, k, m)
		}
		ldb := n
		if tb {
			ldb = k
		}
		kernels.Sgemm(false, tb, m, n, k, 1, A, k, B, ldb, 0, y, n)
		if alpha != 1 {
			for i := range y {
				y[i] *= alpha
			}
		}
		if cs != nil {
			cd := d[2]
			forBroadcast([]int{m, n}, cs, cs, func(o, ic, _ int) { y[o] += beta * cd[ic] })
		}
	})}, nil
}

func transpose2(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

func matmul(c *opCtx, _ attrs, in []*value) ([]*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	as, bs := in[0].shape, in[1].shape
	if len(as) == 0 || len(bs) == 0 {
		return nil, errors.New("scalar operands")
	}
	a2, b2 := as, bs
	if len(a2) == 1 {
		a2 = []int{1, as[0]}
	}
	if len(b2) == 1 {
		b2 = []int{bs[0], 1}
	}
	m, k, k2, n := a2[len(a2)-2], a2[len(a2)-1], b2[len(b2)-2], b2[len(b2)-1]
	if k != k2 {
		return nil, fmt.Errorf("inner dimensions of %v and %v differ", as, bs)
	}
	batch, err := broadcast(a2[:len(a2)-2], b2[:len(b2)-2])
	if err != nil {
		return nil, err
	}
	out := append(append([]int(nil), batch...), m, n)
	sa, sb := bstrides(a2[:len(a2)-2], batch), bstrides(b2[:len(b2)-2], batch)
	final := append([]int(nil), batch...)
	if len(as) > 1 {
		final = append(final, m)
	}
	if len(bs) > 1 {
		final = append(final, n)
	}
	_ = out
	if err := c.checkFold(in[:2], float64(shapeSize(batch))*float64(m)*float64(n)*float64(k)); err != nil {
		return nil, err
	}
	return []*value{c.emit("MatMul", in[:2], final, func(d [][]float32, y []float32) {
		forBroadcast(batch, sa, sb, func(o, ia, ib int) {
			kernels.Sgemm(false, false, m, n, k, 1, d[0][ia*m*k:(ia+1)*m*k], k, d[1][ib*k*n:(ib+1)*k*n], n, 0, y[o*m*n:(o+1)*m*n], n)
		})
	})}, nil
}

func softmax(logOut bool) opFunc {
	return func(c *opCtx, a attrs, in []*value) ([]*value, error) {
		if err := need(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		r := len(x.shape)
		def := int64(-1)
		if c.opset < 13 {
			def = 1
		}
		axis := int(a.int("axis", def))
		if axis < 0 {
			axis += r
		}
		if axis < 0 || axis >= max(r, 1) {
			return nil, fmt.Errorf("axis %d out of range for shape %v", axis, x.shape)
		}
		var outer, dim, inner int
		if c.opset < 13 {
			outer, dim, inner = shapeSize(x.shape[:axis]), shapeSize(x.shape[axis:]), 1
		} else {
			outer, dim, inner = shapeSize(x.shape[:axis]), x.shape[axis], shapeSize(x.shape[axis+1:])
		}
		return []*value{c.emit(c.node.op.Name, in[:1], x.shape, func(d [][]float32, y []float32) {
			for o := 0; o < outer; o++ {
				for i := 0; i < inner; i++ {
					base := o*dim*inner + i
					m := float32(math.Inf(-1))
					for j := 0; j < dim; j++ {
						m = max(m, d[0][base+j*inner])
					}
					var s float64
					for j := 0; j < dim; j++ {
						s += math.Exp(float64(d[0][base+j*inner] - m))
					}
					ls := math.Log(s)
					for j := 0; j < dim; j++ {
						z := float64(d[0][base+j*inner]-m) - ls
						if logOut {
							y[base+j*inner] = float32(z)
						} else {
							y[base+j*inner] = float32(math.Exp(z))
						}
					}
				}
			}
		})}, nil
	}
}

func reduceMean(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := len(x.shape)
	axes, ok := a.ints("axes")
	if len(in) > 1 && in[1] != nil {
		v, err := in[1].ints()
		if err != nil {
			return nil, err
		}
		axes, ok = v, true
	}
	reduce := make([]bool, r)
	if !ok || len(axes) == 0 {
		if a.int("noop_with_empty_axes", 0) != 0 {
			return identity(c, a, in[:1])
		}
		for i := range reduce {
			reduce[i] = true
		}
	}
	for _, ax := range axes {
		if ax < 0 {
			ax += int64(r)
		}
		if ax < 0 || int(ax) >= r {
			return nil, fmt.Errorf("axis %d out of range for shape %v", ax, x.shape)
		}
		reduce[ax] = true
	}
	keep := a.int("keepdims", 1) != 0
	var out, kept []int
	count := 1
	for i, d := range x.shape {
		if reduce[i] {
			count *= d
			kept = append(kept, 1)
			if keep {
				out = append(out, 1)
			}
		} else {
			kept = append(kept, d)
			out = append(out, d)
		}
	}
	if out == nil {
		out = []int{}
	}
	st := bstrides(kept, x.shape)
	return []*value{c.emit("ReduceMean", in[:1], out, func(d [][]float32, y []float32) {
		acc := make([]float64, len(y))
		forBroadcast(x.shape, st, st, func(o, iy, _ int) { acc[iy] += float64(d[0][o]) })
		for i := range y {
			y[i] = float32(acc[i] / float64(count))
		}
	})}, nil
}

// poolND pools over three or more spatial dimensions.
func (c *opCtx) poolND(a attrs, x *value, kernel []int, isMax, includePad bool) ([]*value, error) {
	w, err := c.windowND(a, x.shape[2:], kernel, a.int("ceil_mode", 0) != 0)
	if err != nil {
		return nil, err
	}
	nd := len(kernel)
	out := append([]int{x.shape[0], x.shape[1]}, w.out...)
	inSize, outSize, kSize := shapeSize(w.in), shapeSize(w.out), shapeSize(kernel)
	if _, err := checkedSize(kernel); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	if err := c.checkFold([]*value{x}, float64(x.shape[0]*x.shape[1])*float64(outSize)*float64(kSize)); err != nil {
		return nil, err
	}
	inStrides := make([]int, nd)
	s := 1
	for i := nd - 1; i >= 0; i-- {
		inStrides[i] = s
		s *= w.in[i]
	}
	return []*value{c.emit(c.node.op.Name, []*value{x}, out, func(d [][]float32, y []float32) {
		opos := make([]int, nd)
		kpos := make([]int, nd)
		for nc := 0; nc < x.shape[0]*x.shape[1]; nc++ {
			xp := d[0][nc*inSize : (nc+1)*inSize]
			clear(opos)
			for o := 0; o < outSize; o++ {
				best := float32(math.Inf(-1))
				var sum float32
				count, padded := 0, 0
				clear(kpos)
				for k := 0; k < kSize; k++ {
					off, inside, inPadded := 0, true, true
					for i := 0; i < nd; i++ {
						p := opos[i]*w.strides[i] - w.padBegin[i] + kpos[i]*w.dil[i]
						if p >= w.in[i]+w.padEnd[i] {
							inPadded = false
						}
						if p < 0 || p >= w.in[i] {
							inside = false
						} else {
							off += p * inStrides[i]
						}
					}
					if inPadded {
						padded++
					}
					if inside {
						v := xp[off]
						best = max(best, v)
						sum += v
						count++
					}
					for i := nd - 1; i >= 0; i-- {
						if kpos[i]++; kpos[i] < kernel[i] {
							break
						}
						kpos[i] = 0
					}
				}
				switch {
				case isMax:
					y[nc*outSize+o] = best
				case includePad:
					y[nc*outSize+o] = sum / float32(padded)
				case count > 0:
					y[nc*outSize+o] = sum / float32(count)
				}
				for i := nd - 1; i >= 0; i-- {
					if opos[i]++; opos[i] < w.out[i] {
						break
					}
					opos[i] = 0
				}
			}
		}
	})}, nil
}
