package zoo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/fmixzoo/zoo/internal/torchpt"
)

// ErrNotZooONNX reports an ONNX model that ExportONNX did not write: it
// lacks the arch and args metadata, so no Net can be rebuilt from it.
var ErrNotZooONNX = errors.New("zoo: not an ONNX model exported by zoo (no arch/args metadata)")

// ReadONNX rebuilds the Net an ONNX model was exported from (ExportONNX):
// the architecture and its arguments from the "arch" and "args" metadata,
// the parameters and BatchNorm statistics from the initializers, which
// carry their state-dict names. The export's own constants (Pad amounts,
// ShakeDrop scales) are recomputed by the architecture, not read. As
// LoadStateDict, every parameter must be present with its shape and no
// other tensor may appear; a *StateDictError names every problem. Served
// models are explained this way (gradients need the training graph the
// ONNX file does not hold): one source of truth, the exported file. The
// Net comes back frozen (Freeze): its eval-mode passes pack the weights
// once.
func ReadONNX(data []byte) (*Net, error) {
	meta, _, err := onnxpb.ReadMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("zoo: read onnx: %w", err)
	}
	arch, argsJSON := meta[MetaArch], meta[MetaArgs]
	if arch == "" || argsJSON == "" {
		return nil, ErrNotZooONNX
	}
	var args Args
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		return nil, fmt.Errorf("zoo: read onnx: metadata %q: %w", MetaArgs, err)
	}
	// The metadata comes from the file: the network it describes must fit
	// in it before any parameter is allocated.
	floats, err := paramFloats(arch, args)
	if err != nil {
		return nil, fmt.Errorf("zoo: read onnx: %w", err)
	}
	if floats > int64(len(data))/4 {
		return nil, fmt.Errorf("zoo: read onnx: metadata describes a %s of %d parameters, more than the %d bytes of the file hold", arch, floats, len(data))
	}
	n, err := Build(arch, args)
	if err != nil {
		return nil, fmt.Errorf("zoo: read onnx: %w", err)
	}
	inits, err := onnxpb.ReadInitializers(data)
	if err != nil {
		return nil, fmt.Errorf("zoo: read onnx %s: %w", arch, err)
	}
	sd := make(map[string]torchpt.Tensor, len(inits))
	for _, t := range inits {
		if strings.HasPrefix(t.Name, "pads_") || strings.HasPrefix(t.Name, "shakedrop_scale_") {
			continue
		}
		shape := make([]int, len(t.Dims))
		for i, d := range t.Dims {
			shape[i] = int(d)
		}
		if t.DataType != onnxpb.Float {
			return nil, fmt.Errorf("zoo: read onnx %s: initializer %q has data type %d, want float", arch, t.Name, t.DataType)
		}
		sd[t.Name] = torchpt.Tensor{Shape: shape, DType: "float32", Data: t.Floats}
	}
	if err := n.LoadStateDict(sd); err != nil {
		return nil, fmt.Errorf("zoo: read onnx: %w", err)
	}
	n.Freeze()
	return n, nil
}

// maxArg bounds the size arguments a file may claim (the published networks
// use at most depth 272, width 64, widen 10, growth 40 and 1000 classes).
const maxArg = 1 << 16

// paramFloats counts the float parameters and buffers of arch with args,
// without allocating them.
func paramFloats(arch string, a Args) (int64, error) {
	for _, v := range []int{a.NumClasses, a.NC, a.Depth, a.Width, a.Widen, a.Growth} {
		if v > maxArg {
			return 0, fmt.Errorf("%s args %+v: a size beyond %d", arch, a, maxArg)
		}
	}
	if a.Alpha > maxArg {
		return 0, fmt.Errorf("%s args %+v: alpha beyond %d", arch, a, maxArg)
	}
	n, err := build(arch, a, true)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range append(n.Params(), n.Buffers()...) {
		size := int64(1)
		for _, d := range p.Shape {
			size *= int64(d)
			if size > 1<<40 {
				return 0, fmt.Errorf("%s args %+v: parameter %s of shape %v is too large", arch, a, p.Name, p.Shape)
			}
		}
		total += size
	}
	return total, nil
}
