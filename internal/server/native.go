package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/fmixzoo/zoo/internal/topk"
)

// modelSummary is one model of GET /v1/models.
type modelSummary struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Dataset string `json:"dataset"`
	MSDA    string `json:"msda,omitempty"`
	Input   []int  `json:"input"`
	Loaded  bool   `json:"loaded"`
	// Top1 and Source are the entry's recorded accuracy (percent) and where
	// it came from ("measured" for models trained and measured here).
	Top1   *float64 `json:"top1,omitempty"`
	Source string   `json:"accuracy_source,omitempty"`
	// LoadError is why the model's last load failed, until one succeeds.
	LoadError *loadFailure `json:"load_error,omitempty"`
}

// loadError is name's last load failure for a JSON body, or nil.
func (s *Server) loadError(name string) *loadFailure {
	if f, ok := s.reg.failure(name); ok {
		return &f
	}
	return nil
}

// model resolves the {name} URL parameter to its model's info and names
// the model in the request's log line; for a name the catalogue lacks it
// answers the error itself and returns ok false.
func (s *Server) model(w http.ResponseWriter, r *http.Request) (name string, info ModelInfo, ok bool) {
	name = chi.URLParam(r, "name")
	info, err := s.reg.info(name)
	if err != nil {
		s.fail(w, r, err)
		return name, info, false
	}
	note(r).model = name
	return name, info, true
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	filter := r.URL.Query().Get("filter")
	if _, err := path.Match(filter, ""); err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, "filter %q: %v", clip(filter), err))
		return
	}
	out := []modelSummary{}
	for _, name := range s.reg.cat.List(filter) {
		info, err := s.reg.info(name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out = append(out, modelSummary{Name: name, Arch: info.Arch, Dataset: info.Dataset, MSDA: info.MSDA,
			Input: info.Input, Loaded: s.reg.loaded(name), Top1: info.Accuracy.Top1, Source: info.Accuracy.Source,
			LoadError: s.loadError(name)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	name, info, ok := s.model(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ModelInfo
		Loaded    bool         `json:"loaded"`
		LoadError *loadFailure `json:"load_error,omitempty"`
	}{info, s.reg.loaded(name), s.loadError(name)})
}

// classifyResponse is the body of a successful classify request.
type classifyResponse struct {
	Model       string         `json:"model"`
	Predictions [][]Prediction `json:"predictions"` // one list per image, in upload order
	ElapsedMS   float64        `json:"elapsed_ms"`
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, info, ok := s.model(w, r)
	if !ok {
		return
	}
	k := 5
	if q := r.URL.Query().Get("top_k"); q != "" {
		var err error
		if k, err = strconv.Atoi(q); err != nil || k < 1 {
			s.fail(w, r, errorf(http.StatusBadRequest, "top_k %q: want a positive integer", clip(q)))
			return
		}
	}
	in, err := s.imageInput(w, r, name, info)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slot, x, n := in.slot, in.x, in.n
	logits, err := s.reg.run(r.Context(), slot, x, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes := len(logits) / n
	resp := classifyResponse{Model: name, Predictions: make([][]Prediction, n)}
	for i := range n {
		resp.Predictions[i] = topk.TopK(logits[i*classes:(i+1)*classes], info.Labels, k)
	}
	resp.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	writeJSON(w, http.StatusOK, resp)
}

// imageRequest is a request's images as the model's input, and the loaded model.
type imageRequest struct {
	slot *slot
	x    []float32 // n inputs of info.inputSize() values
	n    int
}

// imageInput reads a request's images (the body, or multipart "image"
// fields), checks every header, loads the model and decodes the images one
// at a time into its input, under the server's decoding budget. Handlers
// that take images (classify, explain) start with it.
func (s *Server) imageInput(w http.ResponseWriter, r *http.Request, name string, info ModelInfo) (*imageRequest, error) {
	ctx := r.Context()
	c := &charge{b: s.budget}
	defer c.releaseAll()
	blobs, err := s.readImages(w, r, c)
	if err != nil {
		return nil, err
	}
	hs, err := s.inspectAll(blobs)
	if err != nil {
		return nil, err
	}
	if err := s.hold(r, int64(len(blobs))*int64(info.inputSize())*4, "the request's input tensor"); err != nil {
		return nil, err
	}
	var slot *slot
	x, err := s.preprocessEach(ctx, blobs, hs, info, func() (Model, error) {
		var err error
		if slot, err = s.reg.get(ctx, name); err != nil {
			return nil, err
		}
		return slot.b.model, nil
	})
	if err != nil {
		return nil, err
	}
	return &imageRequest{slot: slot, x: x, n: len(blobs)}, nil
}

// readImages returns the request's images: the raw body, or every part
// named "image" of a multipart/form-data body. What it reads is charged to c.
func (s *Server) readImages(w http.ResponseWriter, r *http.Request, c *charge) ([][]byte, error) {
	if r.ContentLength > s.cfg.MaxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds the limit of %d", r.ContentLength, s.cfg.MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := s.readCharged(r.Context(), r.Body, c, "request body")
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, errorf(http.StatusBadRequest, "empty body: send an image, or multipart/form-data with image fields")
		}
		return [][]byte{b}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read multipart body: %s", clipTo(err.Error(), 160))
	}
	var out [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if tooLarge(err) {
				return nil, errorf(http.StatusRequestEntityTooLarge, "body exceeds the limit of %d bytes", s.cfg.MaxBody)
			}
			return nil, errorf(http.StatusBadRequest, "read multipart body: %s", clipTo(err.Error(), 160))
		}
		if p.FormName() != "image" {
			continue // NextPart skips what is left of it
		}
		if len(out) == s.cfg.MaxImages {
			return nil, errorf(http.StatusRequestEntityTooLarge, "more than %d images in one request", s.cfg.MaxImages)
		}
		b, err := s.readCharged(r.Context(), p, c, fmt.Sprintf("image %d of the request", len(out)+1))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errorf(http.StatusBadRequest, "multipart body has no field named \"image\"")
	}
	return out, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
