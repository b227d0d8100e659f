package engine

import (
	"math"
	"slices"
)

// fuse rewrites the decoded graph before any compilation: a
// BatchNormalization whose only input is a Conv's output (used nowhere
// else) is folded into the Conv's weights and bias, and a Relu that is the
// only consumer of a Conv's output becomes the Conv's activation; an Add of
// a per-channel constant (CNTK's bias) becomes the Conv's bias, and an Add
// of a value computed earlier (a residual shortcut) is added in the Conv's
// output pass. A Mul by a scalar or per-channel constant after a Conv is
// folded into its weights and bias, an Add of a channel-padded shortcut
// (Concat of a value and zeros, PyramidNet's) is added into the Conv's
// leading channels, and a BatchNormalization feeding only an unpadded
// Conv is folded into that Conv. All keep the graph's outputs unchanged
// (up to rounding) and save a pass over the activations.
func (g *graphDef) fuse() {
	g.ops = g.fuseOnce(g.foldBatchNorm)
	consts := g.constantNodes()
	g.ops = g.fuseOnce(func(conv *opRecord, mul opRecord, _ map[string]bool) bool {
		return g.foldScale(conv, mul, consts)
	})
	g.ops = g.fuseOnce(g.foldBiasAdd)
	g.ops = g.fusePaddedResidual()
	g.ops = g.fuseOnce(g.fuseResidual)
	g.ops = g.fuseOnce(g.foldInputBatchNorm)
	g.ops = g.fuseOnce(g.fuseRelu)
	g.dropUnread()
}

// dropUnread forgets the constants no operation reads and no graph output
// names: the weights and BatchNormalization parameters a fold replaced
// would otherwise stay beside their folded copies for the model's life.
func (g *graphDef) dropUnread() {
	read := map[string]bool{}
	for _, r := range g.ops {
		for _, in := range r.inputs {
			read[in] = true
		}
	}
	for _, out := range g.outputs {
		read[out] = true
	}
	for name := range g.consts {
		if !read[name] {
			delete(g.consts, name)
		}
	}
}

// fuseOnce applies try to every Conv (or BatchNormalization) whose single
// output feeds exactly one operation (and is no graph output); try reports
// whether it absorbed that consumer, which is then dropped.
func (g *graphDef) fuseOnce(try func(conv *opRecord, next opRecord, before map[string]bool) bool) []opRecord {
	uses := map[string]int{}
	for _, r := range g.ops {
		for _, in := range r.inputs {
			uses[in]++
		}
	}
	for _, out := range g.outputs {
		uses[out] += 2 // never fuse away a graph output
	}
	consumer := map[string]int{}
	for i, r := range g.ops {
		for _, in := range r.inputs {
			if uses[in] == 1 {
				consumer[in] = i
			}
		}
	}
	dead := map[int]bool{}
	before := map[string]bool{} // values computed by operations before the current one
	for i := range g.ops {
		r := &g.ops[i]
		if i > 0 {
			for _, o := range g.ops[i-1].outputs {
				before[o] = true
			}
		}
		if (r.op.Name != "Conv" && r.op.Name != "BatchNormalization") || dead[i] || len(r.outputs) != 1 {
			continue
		}
		j, ok := consumer[r.outputs[0]]
		if !ok || dead[j] || j <= i {
			continue
		}
		if try(r, g.ops[j], before) {
			dead[j] = true
		}
	}
	kept := g.ops[:0:0]
	for i, r := range g.ops {
		if !dead[i] {
			kept = append(kept, r)
		}
	}
	return kept
}

// floatConst is the named float initializer, if there is one.
func (g *graphDef) floatConst(name string) (*value, bool) {
	v, ok := g.consts[name]
	if !ok || v.isInt || !v.konst {
		return nil, false
	}
	return v, true
}

// foldBatchNorm folds bn into conv: W'[m] = W[m]·s[m], B'[m] = B[m]·s[m] + t[m]
// (see bnAffine).
func (g *graphDef) foldBatchNorm(conv *opRecord, bn opRecord, _ map[string]bool) bool {
	if conv.op.Name != "Conv" || bn.op.Name != "BatchNormalization" || len(bn.inputs) != 5 ||
		bn.inputs[0] != conv.outputs[0] || conv.relu || conv.residual {
		return false
	}
	w, bias, ok := g.convParams(conv)
	if !ok {
		return false
	}
	m := w.shape[0]
	s, t, ok := g.bnAffine(bn, m)
	if !ok {
		return false
	}
	per := w.size() / m
	nw := g.foldTarget(conv, w)
	nb := make([]float32, m)
	for k := 0; k < m; k++ {
		for i := k * per; i < (k+1)*per; i++ {
			nw[i] = float32(float64(w.f[i]) * s[k])
		}
		b0 := 0.0
		if bias != nil {
			b0 = float64(bias.f[k])
		}
		nb[k] = float32(b0*s[k] + t[k])
	}
	wName, bName := bn.outputs[0]+"#folded_weight", bn.outputs[0]+"#folded_bias"
	g.consts[wName] = constF(append([]int(nil), w.shape...), nw)
	g.consts[bName] = constF([]int{m}, nb)
	conv.inputs = []string{conv.inputs[0], wName, bName}
	conv.outputs = []string{bn.outputs[0]}
	return true
}

// foldTarget is where a fold writes conv's new weights: w's own values
// when conv is the only reader of w (no other operation, no graph output,
// no second input of conv), so a chain of folds into one Conv (BN1 before
// it, BN after it, ShakeDrop's scale) keeps one copy of its weights instead
// of one per fold; a new slice otherwise. Each element is written only
// after the fold has read it.
func (g *graphDef) foldTarget(conv *opRecord, w *value) []float32 {
	name, reads := conv.inputs[1], 0
	for _, r := range g.ops {
		for _, in := range r.inputs {
			if in == name {
				reads++
			}
		}
	}
	if reads != 1 || slices.Contains(g.outputs, name) {
		return make([]float32, len(w.f))
	}
	return w.f
}

// convParams are conv's constant weights (of rank 3 or more, with at least
// one output channel) and bias (nil when it has none).
func (g *graphDef) convParams(conv *opRecord) (w, bias *value, ok bool) {
	if len(conv.inputs) < 2 {
		return nil, nil, false
	}
	w, ok = g.floatConst(conv.inputs[1])
	if !ok || len(w.shape) < 3 || w.shape[0] == 0 {
		return nil, nil, false
	}
	if len(conv.inputs) > 2 && conv.inputs[2] != "" {
		if bias, ok = g.floatConst(conv.inputs[2]); !ok || bias.size() != w.shape[0] {
			return nil, nil, false
		}
	}
	return w, bias, true
}

// bnAffine is an inference BatchNormalization with constant parameters for
// n channels as the per-channel map y = s·x + t: s = gamma/√(var+ε),
// t = beta − mean·s, in float64, all finite. bn's training-mode outputs
// must be unused.
func (g *graphDef) bnAffine(bn opRecord, n int) (s, t []float64, ok bool) {
	for _, o := range bn.outputs[1:] {
		if o != "" {
			return nil, nil, false // training-mode outputs
		}
	}
	if attrs(bn.op.Attributes).int("training_mode", 0) != 0 {
		return nil, nil, false
	}
	var p [4][]float32 // gamma, beta, mean, var
	for k := range p {
		v, ok := g.floatConst(bn.inputs[k+1])
		if !ok || v.size() != n {
			return nil, nil, false
		}
		p[k] = v.f
	}
	eps := float64(attrs(bn.op.Attributes).float("epsilon", 1e-5))
	s, t = make([]float64, n), make([]float64, n)
	for c := range s {
		s[c] = float64(p[0][c]) / math.Sqrt(float64(p[3][c])+eps)
		t[c] = float64(p[1][c]) - float64(p[2][c])*s[c]
		if math.IsNaN(s[c]+t[c]) || math.IsInf(s[c]+t[c], 0) {
			return nil, nil, false // folded, infinities would meet other weights
		}
	}
	return s, t, true
}

// addend returns the other operand of add = conv + other when add is a
// two-input Add and conv a Conv with nothing fused into it yet (not
// Conv + itself).
func addend(conv *opRecord, add opRecord) (other string, ok bool) {
	if conv.op.Name != "Conv" || add.op.Name != "Add" || len(add.inputs) != 2 || len(add.outputs) != 1 ||
		conv.relu || conv.residual || len(conv.inputs) < 2 {
		return "", false
	}
	other = add.inputs[1]
	if add.inputs[0] != conv.outputs[0] {
		other = add.inputs[0]
	}
	return other, other != conv.outputs[0]
}

// foldBiasAdd folds add = Conv + constant, the constant broadcasting
// per output channel (shape [M,1,1], [1,M,1,1] or [M] for a 1-D Conv
// layout), into conv's bias.
func (g *graphDef) foldBiasAdd(conv *opRecord, add opRecord, _ map[string]bool) bool {
	other, ok := addend(conv, add)
	if !ok {
		return false
	}
	c, ok := g.floatConst(other)
	w, okw := g.floatConst(conv.inputs[1])
	if !ok || !okw || len(w.shape) < 3 {
		return false
	}
	m := w.shape[0]
	if c.size() != m || !perChannel(c, m, len(w.shape)) {
		return false
	}
	nb := append([]float32(nil), c.f...)
	if len(conv.inputs) > 2 && conv.inputs[2] != "" {
		b, ok := g.floatConst(conv.inputs[2])
		if !ok || b.size() != m {
			return false
		}
		for k := range nb {
			nb[k] += b.f[k]
		}
	}
	bName := add.outputs[0] + "#folded_bias"
	g.consts[bName] = constF([]int{m}, nb)
	conv.inputs = []string{conv.inputs[0], conv.inputs[1], bName}
	conv.outputs = []string{add.outputs[0]}
	return true
}

// fuseResidual makes add = Conv + r, with r a graph input or the output of
// an earlier operation, the Conv's residual: r becomes the Conv record's
// fourth input. conv falls back to a separate Add when r's shape is not the
// Conv's output shape.
func (g *graphDef) fuseResidual(conv *opRecord, add opRecord, before map[string]bool) bool {
	r, ok := addend(conv, add)
	if !ok {
		return false
	}
	isInput := false
	for _, in := range g.inputs {
		isInput = isInput || in == r
	}
	if r == "" || !(before[r] || isInput) {
		return false
	}
	bias := ""
	if len(conv.inputs) > 2 {
		bias = conv.inputs[2]
	}
	conv.inputs = []string{conv.inputs[0], conv.inputs[1], bias, r}
	conv.residual = true
	conv.outputs = []string{add.outputs[0]}
	return true
}

// fuseRelu makes relu the activation of conv (a Conv or an inference
// BatchNormalization).
func (g *graphDef) fuseRelu(conv *opRecord, relu opRecord, _ map[string]bool) bool {
	if relu.op.Name != "Relu" || len(relu.inputs) != 1 || len(relu.outputs) != 1 || conv.relu {
		return false
	}
	conv.relu = true
	conv.outputs = []string{relu.outputs[0]}
	return true
}

// constantNodes are the float values of the graph's Constant operations,
// by output name (a Mul by a constant is often written with one).
func (g *graphDef) constantNodes() map[string]*value {
	out := map[string]*value{}
	for _, r := range g.ops {
		if r.op.Name != "Constant" || len(r.outputs) != 1 {
			continue
		}
		v, err := constant(nil, attrs(r.op.Attributes), nil)
		if err == nil && len(v) == 1 && !v[0].isInt {
			out[r.outputs[0]] = v[0]
		}
	}
	return out
}

// perChannel reports whether c, right-aligned against a rank-dimensional
// N×M×spatial output, holds one value for each of the m channels or a
// single value for all of them (then every dimension of c is 1).
func perChannel(c *value, m, rank int) bool {
	if len(c.shape) > rank || (c.size() != m && c.size() != 1) {
		return false
	}
	for i, d := range c.shape {
		axis := rank - len(c.shape) + i
		if d != 1 && (axis != 1 || d != m) {
			return false
		}
	}
	return true
}

// foldScale folds mul = Conv·k (Mul) or Conv/k (Div), k a finite constant
// (non-zero for Div) that is a scalar or per output channel, into conv:
// W'[m] = W[m]·k[m], B'[m] = B[m]·k[m], computed in float64. consts are the
// values of Constant operations.
func (g *graphDef) foldScale(conv *opRecord, mul opRecord, consts map[string]*value) bool {
	if conv.op.Name != "Conv" || (mul.op.Name != "Mul" && mul.op.Name != "Div") || len(mul.inputs) != 2 ||
		len(mul.outputs) != 1 || conv.relu || conv.residual || len(conv.inputs) < 2 {
		return false
	}
	other := mul.inputs[1]
	if mul.inputs[0] != conv.outputs[0] {
		if mul.op.Name == "Div" {
			return false // k / Conv
		}
		other = mul.inputs[0]
	}
	if other == conv.outputs[0] {
		return false
	}
	k, ok := g.floatConst(other)
	if !ok {
		if k, ok = consts[other]; !ok {
			return false
		}
	}
	w, bias, ok := g.convParams(conv)
	if !ok || !perChannel(k, w.shape[0], len(w.shape)) {
		return false
	}
	m := w.shape[0]
	scale := make([]float64, m)
	for i := range scale {
		s := float64(k.f[i%len(k.f)])
		if mul.op.Name == "Div" {
			if s == 0 {
				return false
			}
			s = 1 / s
		}
		if math.IsInf(s, 0) || math.IsNaN(s) {
			return false
		}
		scale[i] = s
	}
	per := w.size() / m
	nw := g.foldTarget(conv, w)
	for i, x := range w.f {
		nw[i] = float32(float64(x) * scale[i/per])
	}
	inputs := []string{conv.inputs[0], mul.outputs[0] + "#folded_weight"}
	g.consts[inputs[1]] = constF(append([]int(nil), w.shape...), nw)
	if bias != nil {
		nb := make([]float32, m)
		for i, x := range bias.f {
			nb[i] = float32(float64(x) * scale[i])
		}
		inputs = append(inputs, mul.outputs[0]+"#folded_bias")
		g.consts[inputs[2]] = constF([]int{m}, nb)
	}
	conv.inputs = inputs
	conv.outputs = []string{mul.outputs[0]}
	return true
}

// fusePaddedResidual makes add = Conv + Concat(s, z) along the channels,
// the Concat's output read only there and the Conv's read there and by
// Shape alone, one Conv record with s and z as its fourth and fifth inputs,
// at the Add's place. When z is a constant of zeros that pads s to the
// Conv's channels, conv adds s into the Conv's leading channels in its
// output pass (PyramidNet's zero-padded shortcut); otherwise it computes
// the Concat and the Add. A Conv whose shape is read stays where it was
// for the Shape (z's size is often computed from it); the plan drops its
// unread step.
func (g *graphDef) fusePaddedResidual() []opRecord {
	uses := map[string]int{}       // reads of each value's data
	shapeOnly := map[string]bool{} // values a Shape reads
	producer := map[string]int{}
	consumer := map[string]int{}
	for i, r := range g.ops {
		for _, in := range r.inputs {
			if r.op.Name == "Shape" {
				shapeOnly[in] = true
				continue
			}
			uses[in]++
			consumer[in] = i
		}
		for _, o := range r.outputs {
			producer[o] = i
		}
	}
	for _, out := range g.outputs {
		uses[out] += 2
	}
	dead := map[int]bool{}
	for i := range g.ops {
		conv := &g.ops[i]
		if conv.op.Name != "Conv" || len(conv.outputs) != 1 || uses[conv.outputs[0]] != 1 {
			continue
		}
		j := consumer[conv.outputs[0]]
		cat, ok := addend(conv, g.ops[j])
		k, okp := producer[cat]
		if !ok || !okp || uses[cat] != 1 || shapeOnly[cat] || k >= j || dead[k] || j <= i {
			continue
		}
		r := g.ops[k]
		if r.op.Name != "Concat" || attrs(r.op.Attributes).int("axis", 0) != 1 || len(r.inputs) != 2 ||
			len(r.outputs) != 1 || r.inputs[0] == "" || r.inputs[1] == "" {
			continue
		}
		bias := ""
		if len(conv.inputs) > 2 {
			bias = conv.inputs[2]
		}
		fused := *conv
		fused.inputs = []string{conv.inputs[0], conv.inputs[1], bias, r.inputs[0], r.inputs[1]}
		fused.outputs = []string{g.ops[j].outputs[0]}
		fused.residual = true
		// At the Add's place every input is computed: the Conv's were
		// before the Conv, the Concat's before the Concat.
		g.ops[j] = fused
		dead[k] = true
		dead[i] = !shapeOnly[conv.outputs[0]]
	}
	kept := g.ops[:0:0]
	for i, r := range g.ops {
		if !dead[i] {
			kept = append(kept, r)
		}
	}
	return kept
}

// foldInputBatchNorm folds an inference BatchNormalization y = s·x + t
// (per channel) whose only reader is a Conv without padding or groups
// into that Conv: W'[m,c] = W[m,c]·s[c], B'[m] = B[m] + Σ W[m,c,…]·t[c],
// computed in float64. Without padding every input the Conv reads is a
// normalized one, so this is exact up to rounding. The Conv takes the
// BatchNormalization's place.
func (g *graphDef) foldInputBatchNorm(bn *opRecord, conv opRecord, _ map[string]bool) bool {
	if bn.op.Name != "BatchNormalization" || len(bn.inputs) != 5 || bn.relu || conv.op.Name != "Conv" ||
		conv.residual || len(conv.inputs) < 2 || len(conv.outputs) != 1 || conv.inputs[0] != bn.outputs[0] {
		return false
	}
	for _, in := range conv.inputs[1:] {
		if in == bn.outputs[0] {
			return false
		}
	}
	ca := attrs(conv.op.Attributes)
	if ca.int("group", 1) != 1 {
		return false
	}
	if ap := ca.str("auto_pad", "NOTSET"); ap != "NOTSET" && ap != "VALID" {
		return false
	}
	if pads, ok := ca.ints("pads"); ok {
		for _, p := range pads {
			if p != 0 {
				return false
			}
		}
	}
	w, bias, ok := g.convParams(&conv)
	if !ok || w.shape[1] == 0 {
		return false
	}
	m, cin := w.shape[0], w.shape[1]
	s, t, ok := g.bnAffine(*bn, cin)
	if !ok {
		return false
	}
	taps := w.size() / (m * cin)
	nw := g.foldTarget(&conv, w)
	nb := make([]float32, m)
	for o := 0; o < m; o++ {
		acc := 0.0
		if bias != nil {
			acc = float64(bias.f[o])
		}
		for c := 0; c < cin; c++ {
			for i := (o*cin + c) * taps; i < (o*cin+c+1)*taps; i++ {
				x := float64(w.f[i])
				nw[i] = float32(x * s[c])
				acc += x * t[c]
			}
		}
		nb[o] = float32(acc)
	}
	wName, bName := conv.outputs[0]+"#input_folded_weight", conv.outputs[0]+"#input_folded_bias"
	g.consts[wName] = constF(append([]int(nil), w.shape...), nw)
	g.consts[bName] = constF([]int{m}, nb)
	x := bn.inputs[0]
	*bn = conv
	bn.inputs = []string{x, wName, bName}
	return true
}
