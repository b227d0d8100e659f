package engine

import "math"

// fuse rewrites the decoded graph before any compilation: a
// BatchNormalization whose only input is a Conv's output (used nowhere
// else) is folded into the Conv's weights and bias, and a Relu that is the
// only consumer of a Conv's output becomes the Conv's activation; an Add of
// a per-channel constant (CNTK's bias) becomes the Conv's bias, and an Add
// of a value computed earlier (a residual shortcut) is added in the Conv's
// output pass. All keep the graph's outputs unchanged and save a pass over
// the activations.
func (g *graphDef) fuse() {
	g.ops = g.fuseOnce(g.foldBatchNorm)
	g.ops = g.fuseOnce(g.foldBiasAdd)
	g.ops = g.fuseOnce(g.fuseResidual)
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

// foldBatchNorm folds bn into conv: W'[m] = W[m]·s[m], B'[m] = (B[m]-mean[m])·s[m] + beta[m],
// s = gamma/√(var+ε), computed in float64.
func (g *graphDef) foldBatchNorm(conv *opRecord, bn opRecord, _ map[string]bool) bool {
	if conv.op.Name != "Conv" {
		return false
	}
	if bn.op.Name != "BatchNormalization" || len(bn.inputs) != 5 || bn.inputs[0] != conv.outputs[0] ||
		len(conv.inputs) < 2 || conv.relu || conv.residual {
		return false
	}
	for _, o := range bn.outputs[1:] {
		if o != "" {
			return false // training-mode outputs
		}
	}
	if attrs(bn.op.Attributes).int("training_mode", 0) != 0 {
		return false
	}
	w, ok := g.floatConst(conv.inputs[1])
	if !ok || len(w.shape) < 3 {
		return false
	}
	m := w.shape[0]
	var bias *value
	if len(conv.inputs) > 2 && conv.inputs[2] != "" {
		if bias, ok = g.floatConst(conv.inputs[2]); !ok || bias.size() != m {
			return false
		}
	}
	var p [4][]float32 // gamma, beta, mean, var
	for k := range p {
		v, ok := g.floatConst(bn.inputs[k+1])
		if !ok || v.size() != m {
			return false
		}
		p[k] = v.f
	}
	eps := float64(attrs(bn.op.Attributes).float("epsilon", 1e-5))
	per := w.size() / m
	nw := make([]float32, len(w.f))
	nb := make([]float32, m)
	for k := 0; k < m; k++ {
		s := float64(p[0][k]) / math.Sqrt(float64(p[3][k])+eps)
		for i := k * per; i < (k+1)*per; i++ {
			nw[i] = float32(float64(w.f[i]) * s)
		}
		b0 := 0.0
		if bias != nil {
			b0 = float64(bias.f[k])
		}
		nb[k] = float32((b0-float64(p[2][k]))*s + float64(p[1][k]))
	}
	wName, bName := bn.outputs[0]+"#folded_weight", bn.outputs[0]+"#folded_bias"
	g.consts[wName] = constF(append([]int(nil), w.shape...), nw)
	g.consts[bName] = constF([]int{m}, nb)
	conv.inputs = []string{conv.inputs[0], wName, bName}
	conv.outputs = []string{bn.outputs[0]}
	return true
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
	m, rank := w.shape[0], len(w.shape)
	// Right-aligned against the output N×M×spatial, c must be 1 except at M.
	if len(c.shape) > rank || c.size() != m {
		return false
	}
	for i, d := range c.shape {
		axis := rank - len(c.shape) + i
		if (axis == 1 && d != m) || (axis != 1 && d != 1) {
			return false
		}
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
