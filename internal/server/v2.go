package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/fmixzoo/zoo/internal/topk"
)

// Version is reported by GET /v2.
const Version = "0.1.0"

func (s *Server) v2Server(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":       "zoo-serve",
		"version":    Version,
		"extensions": []string{"binary_tensor_data", "classification"},
	})
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) v2Model(w http.ResponseWriter, r *http.Request) {
	name, info, ok := s.model(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":     name,
		"versions": []string{"1"},
		"platform": "onnx",
		"inputs":   []tensorMeta{{info.inputName(), "FP32", append([]int{-1}, info.Input...)}},
		"outputs":  []tensorMeta{{info.outputName(), "FP32", []int{-1, len(info.Labels)}}},
	})
}

// v2ModelReady answers 200 when the model is loaded and 503 otherwise. It
// starts nothing: a readiness probe must not set off a download; the
// model loads on its first inference request (or --models at start-up).
func (s *Server) v2ModelReady(w http.ResponseWriter, r *http.Request) {
	name, _, ok := s.model(w, r)
	if !ok {
		return
	}
	if s.reg.loaded(name) {
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "ready": true})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"name": name, "ready": false,
		"reason": "not loaded: it loads on its first inference request"})
}

func (s *Server) v2Infer(w http.ResponseWriter, r *http.Request) {
	name, info, ok := s.model(w, r)
	if !ok {
		return
	}
	headerLen := -1
	if h := r.Header.Get("Inference-Header-Content-Length"); h != "" {
		var err error
		if headerLen, err = strconv.Atoi(h); err != nil || headerLen < 0 {
			s.fail(w, r, errorf(http.StatusBadRequest, "Inference-Header-Content-Length %q: want a non-negative integer", clip(h)))
			return
		}
	}
	if r.ContentLength > s.cfg.MaxBody {
		s.fail(w, r, errorf(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds the limit of %d", r.ContentLength, s.cfg.MaxBody))
		return
	}
	c := &charge{b: s.budget}
	body, err := s.readCharged(r.Context(), http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), c, "request body")
	held := c.n
	c.n = 0 // the body is held until the request ends
	note(r).held += held
	if err == nil {
		// Decoding copies the JSON part and writes at most 4 bytes per 2 of
		// body (a digit and a comma), or per 4 of binary data.
		err = s.hold(r, 3*int64(len(body)), "decoding the request's tensor")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	call, err := decodeInfer(body, headerLen, info, s.cfg.MaxImages)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slot, err := s.reg.get(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	logits, err := s.reg.run(r.Context(), slot, call.x, call.n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeInfer(w, name, info, call, logits)
}

func (s *Server) writeInfer(w http.ResponseWriter, name string, info ModelInfo, call *inferCall, logits []float32) {
	classes := len(logits) / call.n
	out := outputTensor{Name: info.outputName(), Datatype: "FP32", Shape: []int{call.n, classes}}
	var bin []byte
	if call.classes > 0 {
		k := min(call.classes, classes)
		elems := make([]string, 0, call.n*k)
		for i := range call.n {
			row := logits[i*classes : (i+1)*classes]
			for _, p := range topk.TopK(row, info.Labels, k) {
				// Triton's classification format: "value:index:label", the
				// value being the output's own (a logit here).
				elems = append(elems, strconv.FormatFloat(float64(row[p.Index]), 'f', 6, 32)+":"+strconv.Itoa(p.Index)+":"+p.Label)
			}
		}
		out.Datatype, out.Shape = "BYTES", []int{call.n, k}
		if call.binary {
			bin = appendBytesTensor(nil, elems)
		} else {
			out.Data = elems
		}
	} else if call.binary {
		bin = appendFP32Tensor(nil, logits)
	} else {
		out.Data = logits
	}
	resp := inferResponse{ModelName: name, ModelVersion: "1", ID: call.id, Outputs: []outputTensor{out}}
	if !call.binary {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp.Outputs[0].Parameters = map[string]any{"binary_data_size": len(bin)}
	header, err := json.Marshal(resp)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Inference-Header-Content-Length", strconv.Itoa(len(header)))
	w.Header().Set("Content-Length", strconv.Itoa(len(header)+len(bin)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(header)
	_, _ = w.Write(bin)
}
