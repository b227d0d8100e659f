// Package onnxpb writes ONNX models (onnx.proto3, IR version 8) with
// google.golang.org/protobuf/encoding/protowire. It covers what the zoo's
// exporter needs: a graph of nodes with attributes, float32 and int64
// initializers, typed inputs and outputs with symbolic dimensions, opset
// imports and metadata.
//
// onnx-go keeps its generated protobuf types internal, so the project owns
// this small encoder instead.
package onnxpb

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX TensorProto data types used by the zoo.
const (
	Float = 1
	Int64 = 7
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Opsets          map[string]int64 // domain ("" = ai.onnx) → version
	Graph           Graph
	Metadata        map[string]string
}

// Graph is an ONNX GraphProto.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
}

// Node is an ONNX NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
}

// Attr is an ONNX AttributeProto. Set exactly one of the value fields; Kind
// says which.
type Attr struct {
	Name string
	Kind AttrKind
	F    float32
	I    int64
	S    string
	T    *Tensor
	Ints []int64
}

// AttrKind is AttributeProto.AttributeType.
type AttrKind int

// Attribute kinds.
const (
	AttrFloat  AttrKind = 1
	AttrInt    AttrKind = 2
	AttrString AttrKind = 3
	AttrTensor AttrKind = 4
	AttrInts   AttrKind = 7
)

// IntAttr, IntsAttr, FloatAttr, StringAttr and TensorAttr build
// attributes. The exporter writes no tensor attribute: TensorAttr is for
// tests that build Constant nodes (engine's hostile-input tests).
func IntAttr(name string, v int64) Attr      { return Attr{Name: name, Kind: AttrInt, I: v} }
func IntsAttr(name string, v ...int64) Attr  { return Attr{Name: name, Kind: AttrInts, Ints: v} }
func FloatAttr(name string, v float32) Attr  { return Attr{Name: name, Kind: AttrFloat, F: v} }
func StringAttr(name string, v string) Attr  { return Attr{Name: name, Kind: AttrString, S: v} }
func TensorAttr(name string, t *Tensor) Attr { return Attr{Name: name, Kind: AttrTensor, T: t} }

// Tensor is an ONNX TensorProto holding either float32 or int64 values.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int32 // Float or Int64
	Floats   []float32
	Int64s   []int64
}

// ValueInfo is a graph input or output: a tensor of ElemType whose dims are
// fixed (Dims[i] >= 0) or symbolic (Params[i] != "").
type ValueInfo struct {
	Name     string
	ElemType int32
	Dims     []int64
	Params   []string // same length as Dims; a non-empty entry makes that dim symbolic
}

// Marshal encodes the model as ONNX protobuf bytes.
func (m *Model) Marshal() []byte {
	var b []byte
	ir := m.IRVersion
	if ir == 0 {
		ir = 8
	}
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ir))
	b = appendString(b, 2, m.ProducerName)
	b = appendString(b, 3, m.ProducerVersion)
	for _, d := range sortedKeys(m.Opsets) {
		var o []byte
		o = appendString(o, 1, d)
		o = protowire.AppendTag(o, 2, protowire.VarintType)
		o = protowire.AppendVarint(o, uint64(m.Opsets[d]))
		b = appendBytes(b, 8, o)
	}
	b = appendBytes(b, 7, m.Graph.marshal())
	for _, k := range sortedKeys(m.Metadata) {
		var e []byte
		e = appendString(e, 1, k)
		e = appendString(e, 2, m.Metadata[k])
		b = appendBytes(b, 14, e)
	}
	return b
}

func (g *Graph) marshal() []byte {
	var b []byte
	for i := range g.Nodes {
		b = appendBytes(b, 1, g.Nodes[i].marshal())
	}
	b = appendString(b, 2, g.Name)
	for i := range g.Initializers {
		b = appendBytes(b, 5, g.Initializers[i].marshal())
	}
	for i := range g.Inputs {
		b = appendBytes(b, 11, g.Inputs[i].marshal())
	}
	for i := range g.Outputs {
		b = appendBytes(b, 12, g.Outputs[i].marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	for _, s := range n.Outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for i := range n.Attrs {
		b = appendBytes(b, 5, n.Attrs[i].marshal())
	}
	b = appendString(b, 7, n.Domain)
	return b
}

func (a *Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Kind {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, a.S)
	case AttrTensor:
		b = appendBytes(b, 5, a.T.marshal())
	case AttrInts:
		for _, v := range a.Ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.Kind))
	return b
}

func (t *Tensor) marshal() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.DataType))
	b = appendString(b, 8, t.Name)
	var raw []byte
	switch t.DataType {
	case Float:
		raw = make([]byte, 4*len(t.Floats))
		for i, f := range t.Floats {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
		}
	case Int64:
		raw = make([]byte, 8*len(t.Int64s))
		for i, v := range t.Int64s {
			binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
		}
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	return b
}

func (v *ValueInfo) marshal() []byte {
	var shape []byte
	for i, d := range v.Dims {
		var dim []byte
		if i < len(v.Params) && v.Params[i] != "" {
			dim = appendString(dim, 2, v.Params[i])
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendBytes(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.ElemType))
	tt = appendBytes(tt, 2, shape)
	var typ []byte
	typ = appendBytes(typ, 1, tt)
	var b []byte
	b = appendString(b, 1, v.Name)
	b = appendBytes(b, 2, typ)
	return b
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, field protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}
