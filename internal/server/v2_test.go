package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flatInput returns n inputs of 16 values, input i all equal to v[i].
func flatInput(v ...float32) []float32 {
	out := make([]float32, 0, 16*len(v))
	for _, x := range v {
		for range 16 {
			out = append(out, x)
		}
	}
	return out
}

func inferJSON(t *testing.T, shape []int, data any, outputs string) []byte {
	t.Helper()
	d, err := json.Marshal(data)
	require.NoError(t, err)
	s, err := json.Marshal(shape)
	require.NoError(t, err)
	body := fmt.Sprintf(`{"id":"req-1","inputs":[{"name":"input","shape":%s,"datatype":"FP32","data":%s}]%s}`, s, d, outputs)
	return []byte(body)
}

func TestV2Metadata(t *testing.T) {
	cat := newFakeCatalog("m")
	_, ts := newTestServer(t, cat, Config{})
	r := do(t, "GET", ts.URL+"/v2", nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "zoo-serve", r.json(t)["name"])
	assert.Contains(t, r.json(t)["extensions"], "classification")

	r = do(t, "GET", ts.URL+"/v2/models/m", nil)
	require.Equal(t, 200, r.status)
	m := r.json(t)
	assert.Equal(t, []any{map[string]any{"name": "input", "datatype": "FP32", "shape": []any{-1.0, 1.0, 4.0, 4.0}}}, m["inputs"])
	assert.Equal(t, []any{map[string]any{"name": "logits", "datatype": "FP32", "shape": []any{-1.0, 3.0}}}, m["outputs"])
	assert.Equal(t, 404, do(t, "GET", ts.URL+"/v2/models/nope", nil).status)

	// Model readiness: 503 until loaded, and polling it loads nothing
	// (a probe must not set off a download); 200 once a request loaded it.
	for range 3 {
		assert.Equal(t, 503, do(t, "GET", ts.URL+"/v2/models/m/ready", nil).status)
	}
	time.Sleep(20 * time.Millisecond)
	assert.Zero(t, cat.loadCount("m"), "a readiness probe loads nothing")
	require.Equal(t, 200, do(t, "POST", ts.URL+"/v2/models/m/infer", inferJSON(t, []int{1, 1, 4, 4}, flatInput(0.5), "")).status)
	assert.Equal(t, 200, do(t, "GET", ts.URL+"/v2/models/m/ready", nil).status)
	assert.Equal(t, 404, do(t, "GET", ts.URL+"/v2/models/nope/ready", nil).status)
}

func TestV2InferJSON(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	x := flatInput(0, 1, 0.5)
	want := make([]float32, 0, 9)
	for i := range 3 {
		want = append(want, fakeLogits(x[16*i:16*(i+1)])...)
	}
	nested := make([][][][]float32, 3)
	for i := range nested {
		nested[i] = [][][]float32{make([][]float32, 4)}
		for y := range 4 {
			nested[i][0][y] = x[16*i+4*y : 16*i+4*y+4]
		}
	}
	for name, data := range map[string]any{"flat": x, "nested": nested} {
		t.Run(name, func(t *testing.T) {
			r := do(t, "POST", ts.URL+"/v2/models/m/infer", inferJSON(t, []int{3, 1, 4, 4}, data, ""))
			require.Equal(t, 200, r.status, "body: %s", r.body)
			resp := decodeReply[inferResponse](t, r)
			assert.Equal(t, "m", resp.ModelName)
			assert.Equal(t, "req-1", resp.ID)
			require.Len(t, resp.Outputs, 1)
			o := resp.Outputs[0]
			assert.Equal(t, "logits", o.Name)
			assert.Equal(t, "FP32", o.Datatype)
			assert.Equal(t, []int{3, 3}, o.Shape)
			got := o.Data.([]any)
			require.Len(t, got, 9)
			for i := range want {
				assert.InDelta(t, want[i], got[i], 1e-6)
			}
		})
	}
}

func TestV2InferClassification(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	x := flatInput(0, 1)
	r := do(t, "POST", ts.URL+"/v2/models/m/infer",
		inferJSON(t, []int{2, 1, 4, 4}, x, `,"outputs":[{"name":"logits","parameters":{"classification":2}}]`))
	require.Equal(t, 200, r.status, "body: %s", r.body)
	resp := decodeReply[inferResponse](t, r)
	o := resp.Outputs[0]
	assert.Equal(t, "BYTES", o.Datatype)
	assert.Equal(t, []int{2, 2}, o.Shape)
	got := o.Data.([]any)
	require.Len(t, got, 4)
	l0, l1 := fakeLogits(x[:16]), fakeLogits(x[16:])
	assert.Equal(t, fmt.Sprintf("%s:0:dark", strconv.FormatFloat(float64(l0[0]), 'f', 6, 32)), got[0])
	assert.True(t, strings.HasSuffix(got[1].(string), ":1:light"), "ties go to the lower index: %v", got[1])
	assert.Equal(t, fmt.Sprintf("%s:1:light", strconv.FormatFloat(float64(l1[1]), 'f', 6, 32)), got[2])
}

// binaryRequest builds a binary tensor extension request for x.
func binaryRequest(t *testing.T, n int, x []float32, extra string) ([]byte, string) {
	t.Helper()
	header := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,1,4,4],"datatype":"FP32","parameters":{"binary_data_size":%d}}]%s}`, n, 4*len(x), extra)
	return append([]byte(header), appendFP32Tensor(nil, x)...), strconv.Itoa(len(header))
}

// splitBinaryReply splits a binary tensor extension response.
func splitBinaryReply(t *testing.T, r reply) (inferResponse, []byte) {
	t.Helper()
	require.Equal(t, 200, r.status, "body: %s", r.body)
	assert.Equal(t, "application/octet-stream", r.header.Get("Content-Type"))
	n, err := strconv.Atoi(r.header.Get("Inference-Header-Content-Length"))
	require.NoError(t, err)
	var resp inferResponse
	require.NoError(t, json.Unmarshal(r.body[:n], &resp))
	require.Len(t, resp.Outputs, 1)
	size, ok := resp.Outputs[0].Parameters["binary_data_size"].(float64)
	require.True(t, ok, "binary_data_size in %v", resp.Outputs[0].Parameters)
	require.Len(t, r.body[n:], int(size))
	return resp, r.body[n:]
}

func TestV2InferBinary(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	x := flatInput(0.25, 0.75)
	want := append(fakeLogits(x[:16]), fakeLogits(x[16:])...)

	body, hl := binaryRequest(t, 2, x, `,"parameters":{"binary_data_output":true}`)
	resp, bin := splitBinaryReply(t, do(t, "POST", ts.URL+"/v2/models/m/infer", body, "Inference-Header-Content-Length", hl))
	assert.Equal(t, []int{2, 3}, resp.Outputs[0].Shape)
	assert.Nil(t, resp.Outputs[0].Data)
	require.Len(t, bin, 4*6)
	for i := range want {
		assert.InDelta(t, want[i], math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:])), 1e-6)
	}

	// Binary input, JSON output (binary_data false on the output).
	body, hl = binaryRequest(t, 2, x, `,"outputs":[{"name":"logits","parameters":{"binary_data":false}}]`)
	r := do(t, "POST", ts.URL+"/v2/models/m/infer", body, "Inference-Header-Content-Length", hl)
	require.Equal(t, 200, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	// Classification as binary BYTES: length-prefixed strings.
	body, hl = binaryRequest(t, 2, x, `,"outputs":[{"name":"logits","parameters":{"binary_data":true,"classification":1}}]`)
	resp, bin = splitBinaryReply(t, do(t, "POST", ts.URL+"/v2/models/m/infer", body, "Inference-Header-Content-Length", hl))
	assert.Equal(t, "BYTES", resp.Outputs[0].Datatype)
	var elems []string
	for len(bin) >= 4 {
		n := binary.LittleEndian.Uint32(bin)
		elems = append(elems, string(bin[4:4+n]))
		bin = bin[4+n:]
	}
	require.Len(t, elems, 2)
	assert.True(t, strings.HasSuffix(elems[0], ":0:dark"), elems[0])
	assert.True(t, strings.HasSuffix(elems[1], ":1:light"), elems[1])
}

func TestV2InferErrors(t *testing.T) {
	cat := newFakeCatalog("m")
	_, ts := newTestServer(t, cat, Config{MaxBody: 1 << 16, MaxImages: 4})
	x := flatInput(0.5)
	good := string(inferJSON(t, []int{1, 1, 4, 4}, x, ""))
	bin, hl := binaryRequest(t, 1, x, "")
	nan, inf := flatInput(0.5), flatInput(0.5)
	nan[3], inf[7] = float32(math.NaN()), float32(math.Inf(-1))
	binNaN, hlNaN := binaryRequest(t, 1, nan, "")
	binInf, hlInf := binaryRequest(t, 1, inf, "")
	tests := []struct {
		name   string
		model  string
		body   string
		header []string
		status int
		msg    string
	}{
		{"unknown model", "nope", good, nil, 404, `unknown model "nope"`},
		{"not json", "m", "{", nil, 400, "decode inference request"},
		{"no inputs", "m", `{"inputs":[]}`, nil, 400, "model has one input \"input\", FP32 of shape [-1 1 4 4]"},
		{"wrong name", "m", strings.Replace(good, `"name":"input"`, `"name":"x"`, 1), nil, 400, `input "x": model has one input "input"`},
		{"wrong datatype", "m", strings.Replace(good, "FP32", "INT64", 1), nil, 400, `datatype "INT64", want FP32 of shape [-1 1 4 4]`},
		{"wrong shape", "m", string(inferJSON(t, []int{1, 3, 4, 4}, x, "")), nil, 400, "shape [1 3 4 4], want [-1 1 4 4]"},
		{"wrong rank", "m", string(inferJSON(t, []int{16}, x, "")), nil, 400, "want [-1 1 4 4]"},
		{"zero batch", "m", string(inferJSON(t, []int{0, 1, 4, 4}, x, "")), nil, 400, "want [-1 1 4 4]"},
		{"batch too large", "m", string(inferJSON(t, []int{5, 1, 4, 4}, flatInput(1, 1, 1, 1, 1), "")), nil, 400, "batch of 5 exceeds the limit of 4"},
		{"too few values", "m", string(inferJSON(t, []int{1, 1, 4, 4}, x[:15], "")), nil, 400, "data has 15 values, want 16"},
		{"too many values", "m", string(inferJSON(t, []int{1, 1, 4, 4}, append(x, 1), "")), nil, 400, "more than 16 values"},
		{"strings in data", "m", string(inferJSON(t, []int{1, 1, 4, 4}, []string{"a"}, "")), nil, 400, "where a number belongs"},
		{"out of range", "m", strings.Replace(good, "[0.5,", "[1e39,", 1), nil, 400, "out of FP32 range"},
		{"no data", "m", `{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"FP32"}]}`, nil, 400, "no data"},
		{"unknown output", "m", string(inferJSON(t, []int{1, 1, 4, 4}, x, `,"outputs":[{"name":"probs"}]`)), nil, 400, `output "probs": model has one output "logits"`},
		{"bad classification", "m", string(inferJSON(t, []int{1, 1, 4, 4}, x, `,"outputs":[{"name":"logits","parameters":{"classification":"x"}}]`)), nil, 400, "classification"},
		{"header length not a number", "m", string(bin), []string{"Inference-Header-Content-Length", "x"}, 400, "Inference-Header-Content-Length"},
		{"header length past the end", "m", string(bin), []string{"Inference-Header-Content-Length", "99999"}, 400, "exceeds the body"},
		{"binary size wrong", "m", strings.Replace(string(bin), `"binary_data_size":64`, `"binary_data_size":60`, 1), []string{"Inference-Header-Content-Length", hl}, 400, "binary_data_size 60, want 64"},
		{"binary data short", "m", string(bin[:len(bin)-4]), []string{"Inference-Header-Content-Length", hl}, 400, "only 60 binary bytes"},
		{"binary data left over", "m", string(bin) + "xxxx", []string{"Inference-Header-Content-Length", hl}, 400, "4 binary bytes after the JSON header"},
		{"body too large", "m", strings.Repeat(" ", 1<<17), nil, 413, "exceeds the limit"},
		{"NaN", "m", string(binNaN), []string{"Inference-Header-Content-Length", hlNaN}, 400, "non-finite value"},
		{"-Inf", "m", string(binInf), []string{"Inference-Header-Content-Length", hlInf}, 400, "non-finite value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "POST", ts.URL+"/v2/models/"+tt.model+"/infer", []byte(tt.body), tt.header...)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			assert.Contains(t, r.json(t)["error"], tt.msg)
		})
	}
	assert.Zero(t, cat.loadCount("m"), "no bad request loads the model")
	r := do(t, "POST", ts.URL+"/v2/models/m/infer", bytes.NewBufferString(good).Bytes())
	assert.Equal(t, 200, r.status, "body: %s", r.body)
}
