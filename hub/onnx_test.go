package hub

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file writes small ONNX models for the tests with protowire, so the
// tests need no generated files: a linear classifier
//
//	logits = Flatten(x) · Wᵀ + b,   x: N×C×H×W (N dynamic), W: K×(C·H·W)
//
// built from Flatten and Gemm (opset 13). linearWeights gives W and b.

func linearWeights(k, d int) (w, b []float32) {
	w = make([]float32, k*d)
	for i := range w {
		w[i] = float32(math.Sin(float64(i)*0.37)) * 0.5
	}
	b = make([]float32, k)
	for i := range b {
		b[i] = float32(i) * 0.1
	}
	return w, b
}

// linearLogits is the reference forward pass of the model linearONNX writes.
func linearLogits(x []float32, n, k int) []float32 {
	d := len(x) / n
	w, b := linearWeights(k, d)
	out := make([]float32, n*k)
	for i := range n {
		for j := range k {
			s := float64(b[j])
			for t := range d {
				s += float64(x[i*d+t]) * float64(w[j*d+t])
			}
			out[i*k+j] = float32(s)
		}
	}
	return out
}

func linearONNX(c, h, wd, k int, meta map[string]string) []byte {
	d := c * h * wd
	w, b := linearWeights(k, d)

	str := func(buf []byte, field protowire.Number, s string) []byte {
		buf = protowire.AppendTag(buf, field, protowire.BytesType)
		return protowire.AppendString(buf, s)
	}
	msg := func(buf []byte, field protowire.Number, m []byte) []byte {
		buf = protowire.AppendTag(buf, field, protowire.BytesType)
		return protowire.AppendBytes(buf, m)
	}
	varint := func(buf []byte, field protowire.Number, v int64) []byte {
		buf = protowire.AppendTag(buf, field, protowire.VarintType)
		return protowire.AppendVarint(buf, uint64(v))
	}
	tensor := func(name string, dims []int, vals []float32) []byte {
		var t []byte
		for _, d := range dims {
			t = varint(t, 1, int64(d))
		}
		t = varint(t, 2, 1) // FLOAT
		t = str(t, 8, name)
		raw := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		return msg(t, 9, raw)
	}
	valueInfo := func(name string, dims ...any) []byte {
		var shape []byte
		for _, d := range dims {
			var dim []byte
			switch d := d.(type) {
			case int:
				dim = varint(dim, 1, int64(d))
			case string:
				dim = str(dim, 2, d)
			}
			shape = msg(shape, 1, dim)
		}
		tt := varint(nil, 1, 1)
		tt = msg(tt, 2, shape)
		typ := msg(nil, 1, tt)
		vi := str(nil, 1, name)
		return msg(vi, 2, typ)
	}
	node := func(op, name string, ins, outs []string, attrs ...[]byte) []byte {
		var n []byte
		for _, s := range ins {
			n = str(n, 1, s)
		}
		for _, s := range outs {
			n = str(n, 2, s)
		}
		n = str(n, 3, name)
		n = str(n, 4, op)
		for _, a := range attrs {
			n = msg(n, 5, a)
		}
		return n
	}
	intAttr := func(name string, v int64) []byte {
		a := str(nil, 1, name)
		a = varint(a, 3, v)
		return varint(a, 20, 2) // INT
	}

	var g []byte
	g = msg(g, 1, node("Flatten", "flatten", []string{"x"}, []string{"flat"}, intAttr("axis", 1)))
	g = msg(g, 1, node("Gemm", "fc", []string{"flat", "W", "b"}, []string{"logits"}, intAttr("transB", 1)))
	g = str(g, 2, "linear")
	g = msg(g, 5, tensor("W", []int{k, d}, w))
	g = msg(g, 5, tensor("b", []int{k}, b))
	g = msg(g, 11, valueInfo("x", "N", c, h, wd))
	g = msg(g, 12, valueInfo("logits", "N", k))

	var m []byte
	m = varint(m, 1, 7) // ir_version
	m = str(m, 2, "fmixzoo-hub-test")
	m = msg(m, 7, g)
	m = msg(m, 8, varint(nil, 2, 13)) // opset 13, default domain
	for _, key := range slices.Sorted(maps.Keys(meta)) {
		m = msg(m, 14, str(str(nil, 1, key), 2, meta[key]))
	}
	return m
}
