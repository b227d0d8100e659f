package zoo

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/fmixzoo/zoo/internal/onnxpb"
)

// ONNX export constants: the opset, the graph's input and output names and
// the symbolic batch dimension.
const (
	ExportOpset = 13
	InputName   = "input"
	OutputName  = "logits"
	BatchDim    = "batch"
)

// Metadata keys ExportONNX always writes.
const (
	MetaArch = "arch"
	MetaArgs = "args"
)

// ExportONNX writes the network in evaluation mode as an ONNX model (opset
// 13, IR 8) with a dynamic batch axis: input "input" (batch × C × H × W) and
// output "logits" (batch × classes). BatchNorm uses the running statistics;
// ShakeDrop scales by 1-p. meta is stored as metadata_props next to "arch"
// and "args" (JSON).
func (n *Net) ExportONNX(w io.Writer, meta map[string]string) error {
	m, err := n.onnxModel(meta)
	if err != nil {
		return fmt.Errorf("zoo: export %s: %w", n.arch, err)
	}
	if _, err := w.Write(m.Marshal()); err != nil {
		return fmt.Errorf("zoo: export %s: write: %w", n.arch, err)
	}
	return nil
}

func (n *Net) onnxModel(meta map[string]string) (*onnxpb.Model, error) {
	args, err := json.Marshal(n.args)
	if err != nil {
		return nil, err
	}
	md := map[string]string{MetaArch: n.arch, MetaArgs: string(args)}
	for k, v := range meta {
		md[k] = v
	}
	g := onnxpb.Graph{Name: n.arch}
	inits := map[string]bool{}
	initFloat := func(name string, dims []int64, v []float32) string {
		if !inits[name] {
			inits[name] = true
			g.Initializers = append(g.Initializers, onnxpb.Tensor{Name: name, Dims: dims, DataType: onnxpb.Float, Floats: v})
		}
		return name
	}
	initInt := func(name string, v ...int64) string {
		if !inits[name] {
			inits[name] = true
			g.Initializers = append(g.Initializers, onnxpb.Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: onnxpb.Int64, Int64s: v})
		}
		return name
	}
	param := func(name string) string {
		p := n.byName[name]
		return initFloat(name, dims64(p.Shape), p.Value)
	}
	value := func(i int) string {
		if i == 0 {
			return InputName
		}
		if i == len(n.layers) {
			return OutputName
		}
		return "v" + strconv.Itoa(i)
	}
	for i, l := range n.layers {
		out := value(i + 1)
		in := make([]string, len(l.In))
		for j, v := range l.In {
			in[j] = value(v)
		}
		node := onnxpb.Node{Name: fmt.Sprintf("%s_%d", l.Kind, i+1), Outputs: []string{out}}
		if l.Name != "" {
			node.Name = l.Name
		}
		switch l.Kind {
		case Conv:
			node.OpType = "Conv"
			node.Inputs = append(in, param(l.Name+".weight"))
			if l.Bias {
				node.Inputs = append(node.Inputs, param(l.Name+".bias"))
			}
			k, s, p := int64(l.K), int64(l.Stride), int64(l.Pad)
			node.Attrs = []onnxpb.Attr{
				onnxpb.IntsAttr("kernel_shape", k, k), onnxpb.IntsAttr("strides", s, s),
				onnxpb.IntsAttr("pads", p, p, p, p), onnxpb.IntsAttr("dilations", 1, 1),
				onnxpb.IntAttr("group", int64(l.Groups)),
			}
		case BatchNorm:
			node.OpType = "BatchNormalization"
			node.Inputs = append(in, param(l.Name+".weight"), param(l.Name+".bias"), param(l.Name+".running_mean"), param(l.Name+".running_var"))
			node.Attrs = []onnxpb.Attr{onnxpb.FloatAttr("epsilon", bnEps), onnxpb.FloatAttr("momentum", 1-bnMomentum)}
		case ReLU:
			node.OpType, node.Inputs = "Relu", in
		case Add:
			node.OpType, node.Inputs = "Add", in
		case MaxPool, AvgPool:
			node.OpType = "MaxPool"
			if l.Kind == AvgPool {
				node.OpType = "AveragePool"
			}
			node.Inputs = in
			k, s, p := int64(l.K), int64(l.Stride), int64(l.Pad)
			node.Attrs = []onnxpb.Attr{onnxpb.IntsAttr("kernel_shape", k, k), onnxpb.IntsAttr("strides", s, s), onnxpb.IntsAttr("pads", p, p, p, p)}
			if l.Ceil {
				node.Attrs = append(node.Attrs, onnxpb.IntAttr("ceil_mode", 1))
			}
			if l.Kind == AvgPool {
				node.Attrs = append(node.Attrs, onnxpb.IntAttr("count_include_pad", 0))
			}
		case GlobalAvgPool:
			node.OpType, node.Inputs = "GlobalAveragePool", in
		case Flatten:
			node.OpType, node.Inputs = "Flatten", in
			node.Attrs = []onnxpb.Attr{onnxpb.IntAttr("axis", 1)}
		case Linear:
			node.OpType = "Gemm"
			node.Inputs = append(in, param(l.Name+".weight"), param(l.Name+".bias"))
			node.Attrs = []onnxpb.Attr{onnxpb.IntAttr("transB", 1)}
		case PadChannels:
			c, err := n.channels(l.In[0])
			if err != nil {
				return nil, err
			}
			node.OpType = "Pad"
			pads := initInt(fmt.Sprintf("pads_%d", i+1), 0, 0, 0, 0, 0, int64(l.Out-c), 0, 0)
			node.Inputs = append(in, pads)
			node.Attrs = []onnxpb.Attr{onnxpb.StringAttr("mode", "constant")}
		case ShakeDrop:
			node.OpType = "Mul"
			node.Inputs = append(in, initFloat(fmt.Sprintf("shakedrop_scale_%d", i+1), nil, []float32{float32(1 - l.P)}))
		case Concat:
			node.OpType, node.Inputs = "Concat", in
			node.Attrs = []onnxpb.Attr{onnxpb.IntAttr("axis", 1)}
		default:
			return nil, fmt.Errorf("layer %d: no ONNX mapping for %v", i, l.Kind)
		}
		g.Nodes = append(g.Nodes, node)
	}
	c, h, wd := int64(n.input[0]), int64(n.input[1]), int64(n.input[2])
	params := []string{BatchDim}
	if n.anySize() {
		params = []string{BatchDim, "", "height", "width"}
	}
	g.Inputs = []onnxpb.ValueInfo{{Name: InputName, ElemType: onnxpb.Float, Dims: []int64{-1, c, h, wd}, Params: params}}
	g.Outputs = []onnxpb.ValueInfo{{Name: OutputName, ElemType: onnxpb.Float, Dims: []int64{-1, int64(n.args.NumClasses)}, Params: []string{BatchDim}}}
	return &onnxpb.Model{
		ProducerName:    "fmixzoo",
		ProducerVersion: "1",
		Opsets:          map[string]int64{"": ExportOpset},
		Graph:           g,
		Metadata:        md,
	}, nil
}

// anySize reports whether the network pools globally before its classifier,
// so that it accepts any input height and width.
func (n *Net) anySize() bool {
	for _, l := range n.layers {
		if l.Kind == GlobalAvgPool {
			return true
		}
	}
	return false
}

// channels is the channel count of value v.
func (n *Net) channels(v int) (int, error) {
	if v == 0 {
		return n.input[0], nil
	}
	l := n.layers[v-1]
	switch l.Kind {
	case Conv, BatchNorm, PadChannels, Linear:
		return l.Out, nil
	case Concat:
		a, err := n.channels(l.In[0])
		if err != nil {
			return 0, err
		}
		b, err := n.channels(l.In[1])
		return a + b, err
	case Flatten:
		return 0, fmt.Errorf("value %d is flattened", v)
	default:
		return n.channels(l.In[0])
	}
}

func dims64(s []int) []int64 {
	d := make([]int64, len(s))
	for i, v := range s {
		d[i] = int64(v)
	}
	return d
}
