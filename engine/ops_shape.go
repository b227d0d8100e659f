package engine

import (
	"errors"
	"fmt"
	"slices"

	"gorgonia.org/tensor"
)

// Shape operations. On constants they fold (for int64 shape tensors and
// float data alike); on runtime floats they emit copying steps.

// relayout returns v rearranged by an index map (out[i] = v[idx[i]]),
// folded for constants.
func (c *opCtx) relayout(name string, v *value, shape []int, idx []int) *value {
	if v.konst && v.isInt {
		out := make([]int64, len(idx))
		for i, j := range idx {
			out[i] = v.i[j]
		}
		return constI(shape, out)
	}
	return c.emit(name, []*value{v}, shape, func(d [][]float32, y []float32) {
		for i, j := range idx {
			y[i] = d[0][j]
		}
	})
}

// reshaped returns v viewed with a new shape (data unchanged).
func (c *opCtx) reshaped(v *value, shape []int) *value {
	if v.konst {
		nv := *v
		nv.shape = shape
		nv.step, nv.uses = nil, 0
		return &nv
	}
	return c.emit("Reshape", []*value{v}, shape, func(d [][]float32, y []float32) { copy(y, d[0]) })
}

func normAxis(axis int64, rank int) (int, error) {
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || int(axis) >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(axis), nil
}

func flatten(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	axis := a.int("axis", 1)
	if axis < 0 {
		axis += int64(len(x.shape))
	}
	if axis < 0 || int(axis) > len(x.shape) {
		return nil, fmt.Errorf("axis %d out of range for %v", a.int("axis", 1), x.shape)
	}
	return []*value{c.reshaped(x, []int{shapeSize(x.shape[:axis]), shapeSize(x.shape[axis:])})}, nil
}

func reshape(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	spec, err := requiredInts(c, a, in, 5, "shape", 1)
	if err != nil {
		return nil, err
	}
	allowZero := a.int("allowzero", 0) != 0
	out := make([]int, len(spec))
	infer := -1
	known := 1
	for i, d := range spec {
		switch {
		case d == 0 && !allowZero:
			if i >= len(x.shape) {
				return nil, fmt.Errorf("shape %v copies dimension %d of %v", spec, i, x.shape)
			}
			out[i] = x.shape[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", spec)
			}
			infer = i
			continue
		case d < 0:
			return nil, fmt.Errorf("shape %v has a negative dimension", spec)
		case d > maxValueSize:
			return nil, fmt.Errorf("%w: shape %s has a dimension of %d", errTooLarge, shortInts(spec), d)
		default:
			out[i] = int(d)
		}
		var err error
		if known, err = mulDims(known, out[i]); err != nil {
			return nil, fmt.Errorf("shape %s: %w", shortInts(spec), err)
		}
	}
	if infer >= 0 {
		if known == 0 || x.size()%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x.shape, spec)
		}
		out[infer] = x.size() / known
	}
	if n, err := checkedSize(out); err != nil || n != x.size() {
		return nil, fmt.Errorf("cannot reshape %v (%d values) to %s", x.shape, x.size(), shortInts(spec))
	}
	return []*value{c.reshaped(x, out)}, nil
}

// permuteIndex maps every output index of a transposition to its input index.
func permuteIndex(shape []int, perm []int) ([]int, []int) {
	r := len(shape)
	out := make([]int, r)
	for i, p := range perm {
		out[i] = shape[p]
	}
	inStrides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStrides[i] = s
		s *= shape[i]
	}
	st := make([]int, r)
	for i, p := range perm {
		st[i] = inStrides[p]
	}
	idx := make([]int, shapeSize(out))
	forBroadcast(out, st, st, func(o, ii, _ int) { idx[o] = ii })
	return out, idx
}

func transpose(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := len(x.shape)
	perm := make([]int, r)
	if p, ok := a.ints("perm"); ok {
		if len(p) != r {
			return nil, fmt.Errorf("perm %v for rank %d", p, r)
		}
		seen := make([]bool, r)
		for i, v := range p {
			ax, err := normAxis(v, r)
			if err != nil || seen[ax] {
				return nil, fmt.Errorf("perm %v is not a permutation", p)
			}
			seen[ax], perm[i] = true, ax
		}
	} else {
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	out, idx := permuteIndex(x.shape, perm)
	return []*value{c.relayout("Transpose", x, out, idx)}, nil
}

func concat(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, errors.New("no inputs")
	}
	r := len(in[0].shape)
	ax, err := normAxis(a.int("axis", 0), r)
	if err != nil {
		return nil, err
	}
	out := append([]int(nil), in[0].shape...)
	out[ax] = 0
	allInt := true
	for i, v := range in {
		if v == nil || len(v.shape) != r {
			return nil, fmt.Errorf("input %d missing or of another rank", i)
		}
		for d := range out {
			if d != ax && v.shape[d] != out[d] {
				return nil, fmt.Errorf("input %d shape %v does not match %v outside axis %d", i, v.shape, in[0].shape, ax)
			}
		}
		out[ax] += v.shape[ax]
		allInt = allInt && v.konst && v.isInt
	}
	outer := shapeSize(out[:ax])
	inner := shapeSize(out[ax+1:])
	size, err := checkedSize(out)
	if err != nil {
		return nil, err
	}
	if allInt {
		res := make([]int64, 0, size)
		for o := 0; o < outer; o++ {
			for _, v := range in {
				n := v.shape[ax] * inner
				res = append(res, v.i[o*n:(o+1)*n]...)
			}
		}
		return []*value{constI(out, res)}, nil
	}
	// Concatenation is associative: a Concat of a Concat along the same
	// axis 1 reads the inner one's parts, which leaves the inner one to
	// its other readers, or to prune.
	parts := in
	if ax == 1 {
		parts = nil
		for _, v := range in {
			if v.parts != nil {
				parts = append(parts, v.parts...)
			} else {
				parts = append(parts, v)
			}
		}
	}
	y := c.emitFull("Concat", parts, out, func(d [][]float32, y []float32) {
		pos := 0
		for o := 0; o < outer; o++ {
			for i, v := range parts {
				n := v.shape[ax] * inner
				copy(y[pos:pos+n], d[i][o*n:(o+1)*n])
				pos += n
			}
		}
	})
	if ax == 1 && y.step != nil {
		y.parts = parts
	}
	return []*value{y}, nil
}

func pad(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := len(x.shape)
	mode := a.str("mode", "constant")
	if mode != "constant" {
		return nil, fmt.Errorf("pad mode %q is not supported (constant is)", mode)
	}
	name := "pads"
	if _, ok := a.ints(name); !ok && c.opset < 11 {
		if _, ok := a.ints("paddings"); ok {
			name = "paddings" // opset 1's name
		}
	}
	pads, err := requiredInts(c, a, in, 11, name, 1)
	if err != nil {
		return nil, err
	}
	var fillv float32
	var fill *value
	switch {
	case c.opset < 11:
		fillv = a.float("value", 0)
	case len(in) > 2 && in[2] != nil:
		if in[2].size() != 1 {
			return nil, errors.New("constant_value must be a scalar")
		}
		fill = in[2]
	}
	if len(in) > 3 && in[3] != nil {
		return nil, errors.New("the axes input (opset 18) is not supported")
	}
	if len(pads) != 2*r {
		return nil, fmt.Errorf("pads %s for rank %d", shortInts(pads), r)
	}
	out := make([]int, r)
	for i := range out {
		if max(pads[i], -pads[i], pads[i+r], -pads[i+r]) > maxWindow {
			return nil, fmt.Errorf("%w: pads %s", errTooLarge, shortInts(pads))
		}
		out[i] = x.shape[i] + int(pads[i]) + int(pads[i+r])
		if out[i] < 0 {
			return nil, fmt.Errorf("pads %s remove more than shape %v", shortInts(pads), x.shape)
		}
	}
	size, err := checkedSize(out)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(pads, func(p int64) bool { return p != 0 }) {
		// PyTorch exports avg_pool2d(x, 2) as Pad (all zeros) and
		// AveragePool (DenseNet's transitions): nothing to pad.
		return []*value{x}, nil
	}
	// idx[o] = input index or -1 for padding.
	idx := make([]int, size)
	inStrides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStrides[i] = s
		s *= x.shape[i]
	}
	pos := make([]int, r)
	for o := range idx {
		j, inside := 0, true
		for d := 0; d < r; d++ {
			p := pos[d] - int(pads[d])
			if p < 0 || p >= x.shape[d] {
				inside = false
				break
			}
			j += p * inStrides[d]
		}
		if inside {
			idx[o] = j
		} else {
			idx[o] = -1
		}
		for d := r - 1; d >= 0; d-- {
			pos[d]++
			if pos[d] < out[d] {
				break
			}
			pos[d] = 0
		}
	}
	return []*value{c.emitFull("Pad", []*value{x, fill}, out, func(d [][]float32, y []float32) {
		fv := fillv
		if d[1] != nil {
			fv = d[1][0]
		}
		for o, j := range idx {
			if j < 0 {
				y[o] = fv
			} else {
				y[o] = d[0][j]
			}
		}
	})}, nil
}

// intsArg returns the integer list an operator takes as attribute name
// before opset since and as input i from it on (the ONNX operators that
// moved arguments into inputs); ok is false when the model gives neither.
func intsArg(c *opCtx, a attrs, in []*value, since int64, name string, i int) (v []int64, ok bool, err error) {
	if c.opset < since {
		v, ok = a.ints(name)
		return v, ok, nil
	}
	if len(in) > i && in[i] != nil {
		v, err = in[i].ints()
		return v, true, err
	}
	return nil, false, nil
}

// requiredInts is intsArg for an argument the operator cannot do without.
func requiredInts(c *opCtx, a attrs, in []*value, since int64, name string, i int) ([]int64, error) {
	v, ok, err := intsArg(c, a, in, since, name, i)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	case ok:
		return v, nil
	case c.opset < since:
		return nil, fmt.Errorf("%s attribute missing", name)
	}
	return nil, need(in, i+1)
}

func squeeze(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	axes, ok, err := intsArg(c, a, in, 13, "axes", 1)
	if err != nil {
		return nil, err
	}
	drop := make([]bool, len(x.shape))
	if !ok {
		for i, d := range x.shape {
			drop[i] = d == 1
		}
	}
	for _, ax := range axes {
		i, err := normAxis(ax, len(x.shape))
		if err != nil {
			return nil, err
		}
		if x.shape[i] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", ax, x.shape)
		}
		drop[i] = true
	}
	out := []int{}
	for i, d := range x.shape {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return []*value{c.reshaped(x, out)}, nil
}

func unsqueeze(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	axes, err := requiredInts(c, a, in, 13, "axes", 1)
	if err != nil {
		return nil, err
	}
	r := len(x.shape) + len(axes)
	if r > maxRank {
		return nil, fmt.Errorf("%w: rank %d (at most %d)", errTooLarge, r, maxRank)
	}
	insert := make([]bool, r)
	for _, ax := range axes {
		i, err := normAxis(ax, r)
		if err != nil {
			return nil, err
		}
		if insert[i] {
			return nil, fmt.Errorf("axes %v repeat an axis", axes)
		}
		insert[i] = true
	}
	out := make([]int, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if insert[i] {
			out = append(out, 1)
		} else {
			out = append(out, x.shape[j])
			j++
		}
	}
	return []*value{c.reshaped(x, out)}, nil
}

func shapeOp(_ *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	s := in[0].shape
	r := int64(len(s))
	start, end := a.int("start", 0), a.int("end", r)
	if start < 0 {
		start += r
	}
	if end < 0 {
		end += r
	}
	start, end = min(max(start, 0), r), min(max(end, 0), r)
	out := []int64{}
	for _, d := range s[start:max(start, end)] {
		out = append(out, int64(d))
	}
	return []*value{constI([]int{len(out)}, out)}, nil
}

func gather(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 2); err != nil {
		return nil, err
	}
	x, ind := in[0], in[1]
	idxs, err := ind.ints()
	if err != nil {
		return nil, fmt.Errorf("indices: %w", err)
	}
	r := len(x.shape)
	ax, err := normAxis(a.int("axis", 0), max(r, 1))
	if err != nil || r == 0 {
		return nil, fmt.Errorf("axis %d for data shape %v", a.int("axis", 0), x.shape)
	}
	dim := x.shape[ax]
	out := append(append(append([]int(nil), x.shape[:ax]...), ind.shape...), x.shape[ax+1:]...)
	outer, inner := shapeSize(x.shape[:ax]), shapeSize(x.shape[ax+1:])
	size, err := checkedSize(out)
	if err != nil {
		return nil, err
	}
	idx := make([]int, 0, size)
	for o := 0; o < outer; o++ {
		for _, k := range idxs {
			if k < 0 {
				k += int64(dim)
			}
			if k < 0 || int(k) >= dim {
				return nil, fmt.Errorf("index %d out of range for axis of size %d", k, dim)
			}
			for i := 0; i < inner; i++ {
				idx = append(idx, (o*dim+int(k))*inner+i)
			}
		}
	}
	return []*value{c.relayout("Gather", x, out, idx)}, nil
}

func slice(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	r := len(x.shape)
	var starts, ends, axes, steps []int64
	if c.opset < 10 {
		var ok bool
		if starts, ok = a.ints("starts"); !ok {
			return nil, errors.New("starts missing")
		}
		if ends, ok = a.ints("ends"); !ok {
			return nil, errors.New("ends missing")
		}
		axes, _ = a.ints("axes")
	} else {
		if err := need(in, 3); err != nil {
			return nil, err
		}
		var err error
		if starts, err = in[1].ints(); err != nil {
			return nil, fmt.Errorf("starts: %w", err)
		}
		if ends, err = in[2].ints(); err != nil {
			return nil, fmt.Errorf("ends: %w", err)
		}
		if len(in) > 3 && in[3] != nil {
			if axes, err = in[3].ints(); err != nil {
				return nil, fmt.Errorf("axes: %w", err)
			}
		}
		if len(in) > 4 && in[4] != nil {
			if steps, err = in[4].ints(); err != nil {
				return nil, fmt.Errorf("steps: %w", err)
			}
		}
	}
	if len(ends) != len(starts) {
		return nil, fmt.Errorf("starts %v and ends %v differ in length", starts, ends)
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, errors.New("starts, ends, axes and steps differ in length")
	}
	begin := make([]int, r)
	step := make([]int, r)
	out := append([]int(nil), x.shape...)
	for i := range step {
		step[i] = 1
	}
	for i, axv := range axes {
		ax, err := normAxis(axv, r)
		if err != nil {
			return nil, err
		}
		d := int64(x.shape[ax])
		st, en, sp := starts[i], ends[i], steps[i]
		if sp == 0 {
			return nil, errors.New("step 0")
		}
		if st < 0 {
			st += d
		}
		if en < 0 {
			en += d
		}
		if sp > 0 {
			st, en = min(max(st, 0), d), min(max(en, 0), d)
		} else {
			st, en = min(max(st, -1), d-1), min(max(en, -1), d-1)
		}
		n := int64(0)
		if sp > 0 && en > st {
			n = (en - st + sp - 1) / sp
		} else if sp < 0 && en < st {
			n = (st - en - sp - 1) / -sp
		}
		begin[ax], step[ax], out[ax] = int(st), int(sp), int(n)
	}
	inStrides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		inStrides[i] = s
		s *= x.shape[i]
	}
	st := make([]int, r)
	base := 0
	for i := range st {
		st[i] = inStrides[i] * step[i]
		base += begin[i] * inStrides[i]
	}
	idx := make([]int, shapeSize(out))
	forBroadcast(out, st, st, func(o, ii, _ int) { idx[o] = base + ii })
	return []*value{c.relayout("Slice", x, out, idx)}, nil
}

func constant(_ *opCtx, a attrs, _ []*value) ([]*value, error) {
	if t, ok := a.tensor("value"); ok {
		v, err := valueOfTensor(t)
		return []*value{v}, err
	}
	if f, ok := a["value_float"].(float32); ok {
		return []*value{constF([]int{}, []float32{f})}, nil
	}
	if f, ok := a["value_floats"].([]float32); ok {
		return []*value{constF([]int{len(f)}, append([]float32(nil), f...))}, nil
	}
	if i, ok := a["value_int"].(int64); ok {
		return []*value{constI([]int{}, []int64{i})}, nil
	}
	if i, ok := a.ints("value_ints"); ok {
		return []*value{constI([]int{len(i)}, append([]int64(nil), i...))}, nil
	}
	return nil, errors.New("no supported value attribute")
}

func constantOfShape(_ *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	dims, err := in[0].ints()
	if err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	if len(dims) > maxRank {
		return nil, fmt.Errorf("%w: rank %d (at most %d)", errTooLarge, len(dims), maxRank)
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 || d > maxValueSize {
			return nil, fmt.Errorf("shape %s: dimension %d", shortInts(dims), d)
		}
		shape[i] = int(d)
	}
	size, err := checkedSize(shape)
	if err != nil {
		return nil, err
	}
	fill := constF([]int{1}, []float32{0})
	if t, ok := a.tensor("value"); ok {
		v, err := valueOfTensor(t)
		if err != nil {
			return nil, err
		}
		fill = v
	}
	if fill.size() != 1 {
		return nil, errors.New("value must hold one element")
	}
	if fill.isInt {
		out := make([]int64, size)
		for i := range out {
			out[i] = fill.i[0]
		}
		return []*value{constI(shape, out)}, nil
	}
	out := make([]float32, size)
	for i := range out {
		out[i] = fill.f[0]
	}
	return []*value{constF(shape, out)}, nil
}

func cast(c *opCtx, a attrs, in []*value) ([]*value, error) {
	if err := need(in, 1); err != nil {
		return nil, err
	}
	x := in[0]
	switch to := a.int("to", 0); to {
	case 1, 11: // FLOAT, DOUBLE
		if x.konst && x.isInt {
			return []*value{constF(x.shape, x.floats())}, nil
		}
		return identity(c, a, in[:1])
	case 6, 7: // INT32, INT64
		if !x.konst {
			return nil, errors.New("casting runtime data to integers is not supported")
		}
		v, _ := x.ints()
		return []*value{constI(x.shape, v)}, nil
	default:
		return nil, fmt.Errorf("cast to data type %d is not supported", to)
	}
}

var _ = tensor.Float32

// shortInts formats integers from a model for an error message, at most 8.
func shortInts(v []int64) string {
	if len(v) > 8 {
		return fmt.Sprint(v[:8]) + fmt.Sprintf("… (%d values)", len(v))
	}
	return fmt.Sprint(v)
}
