package hub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fmixzoo/zoo/engine"
	"github.com/fmixzoo/zoo/zoo"
)

// Tensor is a dense float32 tensor: Shape and row-major Data.
type Tensor = engine.Tensor

// MetadataEntryKey is the ONNX metadata_props key under which an exported
// model may carry its manifest Entry as JSON. ReadONNX uses it for Info and
// preprocessing when present.
const MetadataEntryKey = "fmixzoo.entry"

// MetadataLabelsKey is the ONNX metadata_props key for a JSON list of class
// labels, used by ReadONNX when MetadataEntryKey is absent.
const MetadataLabelsKey = "fmixzoo.labels"

// Model is a runnable classifier: an ONNX graph plus its manifest entry.
// Its methods are safe for concurrent use.
type Model struct {
	entry Entry
	net   *engine.Model
}

// ReadONNX builds a Model from ONNX bytes that did not come through the
// manifest. Its Info comes from the model's MetadataEntryKey when present;
// otherwise it is derived from the graph: the input's C, H and W (a
// dynamic H×W from the zoo arguments' input_size in the "args" metadata that
// zoo's ExportONNX writes), no
// normalisation (mean 0, std 1, pixels scaled to [0, 1]), labels from
// MetadataLabelsKey or none.
func ReadONNX(data []byte) (*Model, error) {
	net, err := readEngine(data)
	if err != nil {
		return nil, fmt.Errorf("hub: read onnx: %w", err)
	}
	e, err := entryFromGraph(net)
	if err != nil {
		return nil, fmt.Errorf("hub: read onnx: %w", err)
	}
	if err := checkGraph(net, e); err != nil {
		return nil, fmt.Errorf("hub: read onnx: %w", err)
	}
	return &Model{entry: e, net: net}, nil
}

// newModel decodes data for the manifest entry e and checks that the graph
// fits the entry.
func newModel(data []byte, e Entry) (*Model, error) {
	net, err := readEngine(data)
	if err != nil {
		return nil, fmt.Errorf("decode onnx: %w", err)
	}
	if err := checkGraph(net, e); err != nil {
		return nil, err
	}
	return &Model{entry: e, net: net}, nil
}

// readEngine is engine.Read with a recover: the bytes come from outside.
func readEngine(data []byte) (m *engine.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("malformed model: %v", r)
		}
	}()
	return engine.Read(data)
}

// maxInputSide bounds an entry's input height and width: callers allocate
// a C×H×W buffer per image from the entry (zoo-serve at warm-up) before
// the engine sees it, and an entry may come from a model's own metadata.
const maxInputSide = 4096

// checkGraph verifies the graph takes one N×C×H×W input and yields N×K
// logits consistent with the entry (dynamic dimensions pass), and that the
// entry's input is at most maxInputSide on a side.
func checkGraph(net *engine.Model, e Entry) error {
	if s := e.Input.Shape; len(s) == 3 && (s[1] > maxInputSide || s[2] > maxInputSide) {
		return fmt.Errorf("input shape %v: at most %d×%d pixels are supported", s, maxInputSide, maxInputSide)
	}
	ins, outs := net.Inputs(), net.Outputs()
	if len(ins) != 1 || len(outs) < 1 {
		return fmt.Errorf("graph has %d inputs and %d outputs, want 1 image input and a logits output", len(ins), len(outs))
	}
	want := append([]int{-1}, e.Input.Shape...)
	if s := ins[0].Shape; len(s) != 4 || !dimsMatch(s[1:], want[1:]) {
		return fmt.Errorf("graph input %q has shape %v, the entry wants N×%v", ins[0].Name, s, e.Input.Shape)
	}
	if s := outs[0].Shape; len(s) != 2 {
		return fmt.Errorf("graph output %q has shape %v, want N×classes", outs[0].Name, s)
	} else if k := len(e.Labels); k > 0 && s[1] >= 0 && s[1] != k {
		return fmt.Errorf("graph output %q has %d classes, the entry has %d labels", outs[0].Name, s[1], k)
	}
	return nil
}

func dimsMatch(got, want []int) bool {
	for i := range got {
		if got[i] >= 0 && want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

func entryFromGraph(net *engine.Model) (Entry, error) {
	md := net.Metadata()
	if js, ok := md[MetadataEntryKey]; ok {
		var e Entry
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return Entry{}, fmt.Errorf("metadata %s: %w", MetadataEntryKey, err)
		}
		if e.Weights.Key == "" {
			e.Weights = Weights{Key: "model.onnx", Format: "onnx"}
		}
		if e.Accuracy.Source == "" {
			e.Accuracy.Source = "none"
		}
		if err := e.validate(); err != nil {
			return Entry{}, fmt.Errorf("metadata %s: %w", MetadataEntryKey, err)
		}
		return e, nil
	}
	ins := net.Inputs()
	if len(ins) != 1 || len(ins[0].Shape) != 4 {
		return Entry{}, fmt.Errorf("want one N×C×H×W input, graph has %d inputs", len(ins))
	}
	c, h, w := ins[0].Shape[1], ins[0].Shape[2], ins[0].Shape[3]
	if h < 0 && w < 0 {
		// A zoo network that pools globally exports a dynamic H×W; its
		// arguments (metadata "args", zoo.MetaArgs) say what it was built for.
		var a zoo.Args
		if js, ok := md[zoo.MetaArgs]; ok && json.Unmarshal([]byte(js), &a) == nil && a.InputSize > 0 {
			h, w = a.InputSize, a.InputSize
		}
	}
	if (c != 1 && c != 3) || h <= 0 || w <= 0 {
		return Entry{}, fmt.Errorf("input %q shape %v: want 1 or 3 channels and a fixed H×W", ins[0].Name, ins[0].Shape)
	}
	e := Entry{
		Name: md["name"],
		Input: Input{
			Shape: []int{c, h, w}, Mean: make([]float64, c), Std: make([]float64, c),
			Interpolation: "bilinear", Scale: 255,
		},
		Accuracy: Accuracy{Source: "none"},
		Weights:  Weights{Format: "onnx"},
	}
	for i := range e.Input.Std {
		e.Input.Std[i] = 1
	}
	if js, ok := md[MetadataLabelsKey]; ok {
		if err := json.Unmarshal([]byte(js), &e.Labels); err != nil {
			return Entry{}, fmt.Errorf("metadata %s: %w", MetadataLabelsKey, err)
		}
	}
	return e, nil
}

// Info returns the model's manifest entry.
func (m *Model) Info() Entry { return m.entry }

// Run evaluates the graph: inputs in graph order, outputs in graph order.
// The batch dimension may vary between calls.
func (m *Model) Run(ctx context.Context, inputs ...Tensor) ([]Tensor, error) {
	return m.net.Run(ctx, inputs...)
}
