package engine

import (
	"fmt"
	"sort"

	"github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// backend is the onnx.Backend onnx-go decodes into. It keeps the gonum
// graph onnx-go expects and, beside it, what the engine needs: every
// value's name and tensor, and every operation with its ordered inputs and
// outputs, in graph order.
type backend struct {
	*simple.WeightedDirectedGraph
	nodes map[int64]*vnode
	// edges from an op's output node to its inputs, with the input index as
	// weight; kept as a list because one value may feed one op twice.
	edges map[int64][]inEdge
	ops   []opRecord
}

type inEdge struct {
	to    int64
	index int
}

// vnode is one named value of the graph.
type vnode struct {
	id     int64
	name   string
	t      tensor.Tensor
	output bool // produced by an operation
}

type opRecord struct {
	op       onnx.Operation
	inputs   []string // "" for an omitted optional input
	outputs  []string
	relu     bool // a Conv with a fused Relu (see fuse)
	residual bool // a Conv whose fourth input is added to its output (see fuse)
}

var (
	_ onnx.Backend     = (*backend)(nil)
	_ onnx.Namer       = (*vnode)(nil)
	_ onnx.DataCarrier = (*vnode)(nil)
)

func newBackend() *backend {
	return &backend{
		WeightedDirectedGraph: simple.NewWeightedDirectedGraph(0, 0),
		nodes:                 map[int64]*vnode{},
		edges:                 map[int64][]inEdge{},
	}
}

func (n *vnode) ID() int64                       { return n.id }
func (n *vnode) SetName(s string)                { n.name = s }
func (n *vnode) GetName() string                 { return n.name }
func (n *vnode) SetTensor(t tensor.Tensor) error { n.t = t; return nil }
func (n *vnode) GetTensor() tensor.Tensor        { return n.t }

// NewNode returns a new value node.
func (b *backend) NewNode() graph.Node {
	id := b.WeightedDirectedGraph.NewNode().ID()
	n := &vnode{id: id}
	b.nodes[id] = n
	return n
}

// AddNode adds a node made by NewNode.
func (b *backend) AddNode(n graph.Node) {
	if b.WeightedDirectedGraph.Node(n.ID()) == nil {
		b.WeightedDirectedGraph.AddNode(n)
	}
}

// SetWeightedEdge records that the op producing e.From() reads e.To() as
// input number e.Weight().
func (b *backend) SetWeightedEdge(e graph.WeightedEdge) {
	from, to := e.From().ID(), e.To().ID()
	b.edges[from] = append(b.edges[from], inEdge{to: to, index: int(e.Weight())})
	if from != to {
		b.WeightedDirectedGraph.SetWeightedEdge(e)
	}
}

// ApplyOperation records an operation whose outputs are the given nodes.
func (b *backend) ApplyOperation(op onnx.Operation, outs ...graph.Node) error {
	if len(outs) == 0 {
		return fmt.Errorf("operation %s has no outputs", op.Name)
	}
	rec := opRecord{op: op}
	edges := b.edges[outs[0].ID()]
	seen := map[int]bool{}
	var ins []inEdge
	for _, e := range edges {
		if !seen[e.index] {
			seen[e.index] = true
			ins = append(ins, e)
		}
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].index < ins[j].index })
	for i, e := range ins {
		if e.index != i {
			return fmt.Errorf("operation %s: inputs are not numbered 0..n-1", op.Name)
		}
		rec.inputs = append(rec.inputs, b.nodes[e.to].name)
	}
	for _, o := range outs {
		n, ok := b.nodes[o.ID()]
		if !ok {
			return fmt.Errorf("operation %s: output node %d unknown", op.Name, o.ID())
		}
		n.output = true
		rec.outputs = append(rec.outputs, n.name)
	}
	b.ops = append(b.ops, rec)
	return nil
}
