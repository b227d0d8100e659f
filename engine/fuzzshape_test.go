package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// shapeCase builds a small model whose shapes and constants come from the
// fuzzer: op picks one of the templates below, a..d are its dimensions,
// shape values, pads, axes or indices. x is always a runtime [1, 4] input,
// so the graph mixes folding and runtime steps.
func shapeCase(op uint8, a, b, c, d int64) []byte {
	s := func(name string, v ...int64) onnxpb.Tensor { return i64s(name, v...) }
	cos := func(in, out string) onnxpb.Node { return node("ConstantOfShape", []string{in}, []string{out}) }
	add := func(in ...string) onnxpb.Node { return node("Add", in, []string{"y"}) }
	switch op % 14 {
	case 0:
		return graphModel(13, []onnxpb.Tensor{s("s", a, b, c)}, node("Reshape", []string{"x", "s"}, []string{"y"}))
	case 1:
		return graphModel(13, []onnxpb.Tensor{s("s", a, b)}, cos("s", "c"), add("x", "c"))
	case 2:
		return graphModel(13, []onnxpb.Tensor{s("p", a, b, c, d)}, node("Pad", []string{"x", "p"}, []string{"y"}))
	case 3:
		return graphModel(13, []onnxpb.Tensor{s("i", a, b)}, node("Gather", []string{"x", "i"}, []string{"y"}, onnxpb.IntAttr("axis", c)))
	case 4:
		return graphModel(13, []onnxpb.Tensor{s("s", a, b)}, cos("s", "c"), node("Concat", []string{"x", "c"}, []string{"y"}, onnxpb.IntAttr("axis", d)))
	case 5:
		return graphModel(13, []onnxpb.Tensor{s("s1", a, b), s("s2", c, d)}, cos("s1", "p"), cos("s2", "q"),
			node("MatMul", []string{"p", "q"}, []string{"r"}), add("x", "r"))
	case 6:
		return graphModel(13, []onnxpb.Tensor{s("s1", a, 1, b), s("s2", c, 1)}, cos("s1", "p"), cos("s2", "q"),
			node("Add", []string{"p", "q"}, []string{"r"}), add("x", "r"))
	case 7:
		return graphModel(13, []onnxpb.Tensor{s("st", a), s("en", b), s("ax", c), s("sp", d)},
			node("Slice", []string{"x", "st", "en", "ax", "sp"}, []string{"y"}))
	case 8:
		return graphModel(13, []onnxpb.Tensor{s("ax", a, b)}, node("Unsqueeze", []string{"x", "ax"}, []string{"y"}))
	case 9:
		return graphModel(13, nil, node("Transpose", []string{"x"}, []string{"y"}, onnxpb.IntsAttr("perm", a, b)))
	case 10:
		return graphModel(13, []onnxpb.Tensor{s("s", 1, 1, 2, 2)}, node("Reshape", []string{"x", "s"}, []string{"r"}),
			node("MaxPool", []string{"r"}, []string{"y"}, onnxpb.IntsAttr("kernel_shape", a, b), onnxpb.IntsAttr("pads", c, d, 0, 0), onnxpb.IntsAttr("strides", 1, max(1, d))))
	case 11:
		return graphModel(13, []onnxpb.Tensor{s("s", 1, 1, 2, 2), s("w", a, 1, b, c)}, node("Reshape", []string{"x", "s"}, []string{"r"}),
			cos("w", "k"), node("Conv", []string{"r", "k"}, []string{"y"}, onnxpb.IntsAttr("pads", d, d, d, d)))
	case 12:
		return graphModel(13, nil, node("Flatten", []string{"x"}, []string{"y"}, onnxpb.IntAttr("axis", a)))
	default: // an initializer whose dims and data length disagree, or not
		f := make([]float32, max(0, min(c, 64)))
		return graphModel(13, []onnxpb.Tensor{{Name: "w", Dims: []int64{a, b}, DataType: onnxpb.Float, Floats: f}}, add("x", "w"))
	}
}

// withInitializerDims rewrites the dims of a model's k-th initializer (of
// those the graph has, modulo) to dims, leaving its data as it is.
func withInitializerDims(model []byte, k int, dims []int64) []byte {
	var out []byte
	rewriteFields(model, func(num protowire.Number, v []byte) []byte {
		if num != 7 { // graph
			return nil
		}
		count := 0
		rewriteFields(v, func(num protowire.Number, _ []byte) []byte {
			if num == 5 {
				count++
			}
			return nil
		})
		if count == 0 {
			return nil
		}
		k %= count
		i := 0
		return rewriteFields(v, func(num protowire.Number, t []byte) []byte {
			if num != 5 {
				return nil
			}
			i++
			if i-1 != k {
				return nil
			}
			var nt []byte
			for _, d := range dims {
				nt = protowire.AppendTag(nt, 1, protowire.VarintType)
				nt = protowire.AppendVarint(nt, uint64(d))
			}
			rest := rewriteFields(t, func(num protowire.Number, _ []byte) []byte { return nil })
			return append(nt, stripField(rest, 1)...)
		})
	}, &out)
	return out
}

// rewriteFields copies a message, replacing each length-delimited field's
// payload by fn's result when fn returns non-nil; it returns the copy (and
// stores it in *dst when given). Malformed input is returned as it is.
func rewriteFields(b []byte, fn func(num protowire.Number, v []byte) []byte, dst ...*[]byte) []byte {
	var out []byte
	orig := b
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return orig
		}
		tag := b[:n]
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return orig
		}
		field := b[:n+m]
		b = b[n+m:]
		if typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(field[len(tag):])
			if nv := fn(num, v); nv != nil {
				out = append(out, tag...)
				out = protowire.AppendBytes(out, nv)
				continue
			}
		}
		out = append(out, field...)
	}
	for _, d := range dst {
		*d = out
	}
	return out
}

// stripField removes every occurrence of field num from a message.
func stripField(b []byte, num protowire.Number) []byte {
	var out []byte
	for len(b) > 0 {
		n0, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out
		}
		m := protowire.ConsumeFieldValue(n0, typ, b[n:])
		if m < 0 {
			return out
		}
		if n0 != num {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

// clampDim keeps the fuzzer's small values (|v| < 4096, so an accepted
// tensor is at most 64 MiB) and its huge ones (the overflow cases), and
// folds the middle range into the small one.
func clampDim(v int64) int64 {
	if v > -1<<12 && v < 1<<12 || v > 1<<40 || v < -1<<40 {
		return v
	}
	return v % (1 << 12)
}

// FuzzShapes builds models from fuzzed shapes and constants (shapeCase),
// and rewrites the initializer dims of a real model (LeNet), then reads
// and runs each with a deadline. Read and Run must return (an error is
// fine), never panic, hang or run out of memory.
func FuzzShapes(f *testing.F) {
	lenet, err := os.ReadFile(filepath.Join(torchDir, "lenet.onnx"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), int64(2), int64(2), int64(1), int64(0))
	f.Add(uint8(0), int64(1<<62+1), int64(4), int64(1), int64(0))
	f.Add(uint8(1), int64(1<<15), int64(1<<15), int64(0), int64(0))
	f.Add(uint8(2), int64(0), int64(0), int64(1), int64(-2))
	f.Add(uint8(5), int64(2048), int64(2048), int64(2048), int64(2048))
	f.Add(uint8(6), int64(1<<15), int64(1), int64(1<<15), int64(0))
	f.Add(uint8(7), int64(-1), int64(-5), int64(1), int64(-1))
	f.Add(uint8(10), int64(2), int64(2), int64(1), int64(1))
	f.Add(uint8(11), int64(2), int64(1), int64(1), int64(1))
	f.Add(uint8(13), int64(1<<40), int64(1<<30), int64(1), int64(0))
	f.Add(uint8(128), int64(6), int64(1), int64(5), int64(5)) // LeNet, conv1.weight dims
	f.Add(uint8(129), int64(1<<31), int64(1<<31), int64(4), int64(1))
	f.Fuzz(func(t *testing.T, op uint8, a, b, c, d int64) {
		a, b, c, d = clampDim(a), clampDim(b), clampDim(c), clampDim(d)
		model := shapeCase(op, a, b, c, d)
		in := Tensor{Shape: []int{1, 4}, Data: []float32{1, -2, 3, -4}}
		if op >= 128 {
			rank := int(op%4) + 1
			model = withInitializerDims(lenet, int(op/4), []int64{a, b, c, d}[:rank])
			in = Tensor{Shape: []int{1, 1, 28, 28}, Data: make([]float32, 28*28)}
		}
		m, err := Read(model)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := m.Run(ctx, in)
		if err != nil {
			return
		}
		for i, o := range out {
			if n, err := checkedSize(o.Shape); err != nil || n != len(o.Data) {
				t.Fatalf("output %d: shape %v with %d values (%v)", i, o.Shape, len(o.Data), err)
			}
		}
	})
}

// TestWithInitializerDims: the LeNet rewriting reaches the initializer
// (its data no longer fits the dims) and keeps the rest of the model.
func TestWithInitializerDims(t *testing.T) {
	lenet, err := os.ReadFile(filepath.Join(torchDir, "lenet.onnx"))
	require.NoError(t, err)
	_, err = Read(withInitializerDims(lenet, 0, []int64{7}))
	require.ErrorIs(t, err, ErrMalformed)
	assert.Regexp(t, `tensor "[^"]+": dimensions \[7\] hold 7 elements, the data \d+`, err.Error())
	_, err = Read(withInitializerDims(lenet, 0, []int64{1 << 31, 1 << 31, 4}))
	assert.ErrorContains(t, err, "dimensions hold more than 268435456 elements")
}
