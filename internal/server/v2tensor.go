package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// Open Inference Protocol v2 request and response bodies, as in
// https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
// with Triton's binary tensor and classification extensions.

type inferRequest struct {
	ID         string                     `json:"id,omitempty"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Inputs     []inferInput               `json:"inputs"`
	Outputs    []requestedOutput          `json:"outputs,omitempty"`
}

type inferInput struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
	Data       json.RawMessage            `json:"data,omitempty"`
}

type requestedOutput struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters,omitempty"`
}

type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Outputs      []outputTensor `json:"outputs"`
}

type outputTensor struct {
	Name       string         `json:"name"`
	Datatype   string         `json:"datatype"`
	Shape      []int          `json:"shape"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data,omitempty"`
}

// inferCall is a decoded, validated inference request.
type inferCall struct {
	id string
	x  []float32 // n inputs of the model's C*H*W
	n  int
	// binary asks for the output as binary tensor data; classes > 0 asks for
	// the classification extension's top-classes strings instead of logits.
	binary  bool
	classes int
}

// decodeInfer decodes an inference request body for a model. headerLen is the
// Inference-Header-Content-Length (the JSON part's length when binary tensor
// data follows it), or -1 when the body is JSON only. Every error is a 400
// that says what was expected; it never panics.
func decodeInfer(body []byte, headerLen int, info ModelInfo, maxBatch int) (*inferCall, error) {
	jsonPart, bin := body, []byte(nil)
	if headerLen >= 0 {
		if headerLen > len(body) {
			return nil, errorf(http.StatusBadRequest, "Inference-Header-Content-Length %d exceeds the body's %d bytes", headerLen, len(body))
		}
		jsonPart, bin = body[:headerLen], body[headerLen:]
	}
	var req inferRequest
	if err := json.Unmarshal(jsonPart, &req); err != nil {
		return nil, errorf(http.StatusBadRequest, "decode inference request: %v", err)
	}
	want := append([]int{-1}, info.Input...)
	if len(req.Inputs) != 1 {
		return nil, errorf(http.StatusBadRequest, "%d inputs: model has one input %q, FP32 of shape %v", len(req.Inputs), info.inputName(), want)
	}
	in := req.Inputs[0]
	if in.Name != info.inputName() {
		return nil, errorf(http.StatusBadRequest, "input %q: model has one input %q, FP32 of shape %v", clip(in.Name), info.inputName(), want)
	}
	if in.Datatype != "FP32" {
		return nil, errorf(http.StatusBadRequest, "input %q: datatype %q, want FP32 of shape %v", clip(in.Name), clip(in.Datatype), want)
	}
	if len(in.Shape) != len(want) || in.Shape[0] < 1 {
		return nil, errorf(http.StatusBadRequest, "input %q: shape %v, want %v", clip(in.Name), clip(fmt.Sprint(in.Shape)), want)
	}
	for i, d := range in.Shape[1:] {
		if d != int64(want[i+1]) {
			return nil, errorf(http.StatusBadRequest, "input %q: shape %v, want %v", clip(in.Name), clip(fmt.Sprint(in.Shape)), want)
		}
	}
	if in.Shape[0] > int64(maxBatch) {
		return nil, errorf(http.StatusBadRequest, "input %q: batch of %d exceeds the limit of %d", clip(in.Name), in.Shape[0], maxBatch)
	}
	call := &inferCall{id: req.ID, n: int(in.Shape[0])}
	count := call.n * info.inputSize()

	size, hasSize, err := intParam(in.Parameters, "binary_data_size")
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "input %q: %v", clip(in.Name), err)
	}
	switch {
	case hasSize:
		if size != 4*count {
			return nil, errorf(http.StatusBadRequest, "input %q: binary_data_size %d, want %d (FP32 of shape %v)", clip(in.Name), size, 4*count, clip(fmt.Sprint(in.Shape)))
		}
		if size > len(bin) {
			return nil, errorf(http.StatusBadRequest, "input %q: binary_data_size %d but only %d binary bytes follow the JSON header", clip(in.Name), size, len(bin))
		}
		call.x = make([]float32, count)
		for i := range call.x {
			call.x[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
		}
		bin = bin[size:]
	case len(in.Data) == 0:
		return nil, errorf(http.StatusBadRequest, "input %q: no data and no binary_data_size", clip(in.Name))
	default:
		if call.x, err = parseFP32(in.Data, count); err != nil {
			return nil, errorf(http.StatusBadRequest, "input %q: %v (want FP32 of shape %v)", clip(in.Name), err, clip(fmt.Sprint(in.Shape)))
		}
	}
	if len(bin) != 0 {
		return nil, errorf(http.StatusBadRequest, "%d binary bytes after the JSON header belong to no input", len(bin))
	}
	for _, v := range call.x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, errorf(http.StatusBadRequest, "input %q: non-finite value", clip(in.Name))
		}
	}

	if call.binary, _, err = boolParam(req.Parameters, "binary_data_output"); err != nil {
		return nil, errorf(http.StatusBadRequest, "parameters: %v", err)
	}
	if len(req.Outputs) > 1 {
		return nil, errorf(http.StatusBadRequest, "%d outputs requested: model has one output %q", len(req.Outputs), info.outputName())
	}
	for _, o := range req.Outputs {
		if o.Name != info.outputName() {
			return nil, errorf(http.StatusBadRequest, "output %q: model has one output %q", clip(o.Name), info.outputName())
		}
		if b, ok, err := boolParam(o.Parameters, "binary_data"); err != nil {
			return nil, errorf(http.StatusBadRequest, "output %q: %v", clip(o.Name), err)
		} else if ok {
			call.binary = b
		}
		k, ok, err := intParam(o.Parameters, "classification")
		if err != nil || (ok && k < 1) {
			return nil, errorf(http.StatusBadRequest, "output %q: classification: want a positive integer", clip(o.Name))
		}
		call.classes = k
	}
	return call, nil
}

func intParam(p map[string]json.RawMessage, key string) (int, bool, error) {
	raw, ok := p[key]
	if !ok {
		return 0, false, nil
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil || v < 0 {
		return 0, true, fmt.Errorf("parameter %s: want a non-negative integer, got %s", key, clip(string(raw)))
	}
	return v, true, nil
}

func boolParam(p map[string]json.RawMessage, key string) (bool, bool, error) {
	raw, ok := p[key]
	if !ok {
		return false, false, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, true, fmt.Errorf("parameter %s: want true or false, got %s", key, clip(string(raw)))
	}
	return v, true, nil
}

// parseFP32 reads a tensor's "data": numbers in a flat or nested JSON array,
// in row-major order, exactly want of them.
func parseFP32(data []byte, want int) ([]float32, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '[' {
		return nil, fmt.Errorf("data must be a JSON array of numbers")
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("data is not valid JSON")
	}
	out := make([]float32, 0, want)
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case '[', ']', ',', ' ', '\t', '\n', '\r':
			i++
			continue
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		default:
			return nil, fmt.Errorf("data holds %q where a number belongs", c)
		}
		j := i
		for j < len(data) && bytes.IndexByte([]byte("-+.eE0123456789"), data[j]) >= 0 {
			j++
		}
		if len(out) == want {
			return nil, fmt.Errorf("data has more than %d values", want)
		}
		v, err := strconv.ParseFloat(string(data[i:j]), 32)
		if err != nil {
			return nil, fmt.Errorf("data value %s: out of FP32 range", clip(string(data[i:j])))
		}
		out = append(out, float32(v))
		i = j
	}
	if len(out) != want {
		return nil, fmt.Errorf("data has %d values, want %d", len(out), want)
	}
	return out, nil
}

// appendBytesTensor appends BYTES elements in the binary tensor form: each a
// 4-byte little-endian length, then its bytes.
func appendBytesTensor(dst []byte, elems []string) []byte {
	for _, e := range elems {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(e)))
		dst = append(dst, e...)
	}
	return dst
}

// appendFP32Tensor appends FP32 values little-endian.
func appendFP32Tensor(dst []byte, v []float32) []byte {
	for _, f := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	return dst
}
