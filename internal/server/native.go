package server

import (
	"errors"
	"fmt"
	"image"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
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
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	filter := r.URL.Query().Get("filter")
	if _, err := path.Match(filter, ""); err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, "filter %q: %v", filter, err))
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
			Input: info.Input, Loaded: s.reg.loaded(name), Top1: info.Accuracy.Top1, Source: info.Accuracy.Source})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	info, err := s.reg.info(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	note(r).model = name
	writeJSON(w, http.StatusOK, struct {
		ModelInfo
		Loaded bool `json:"loaded"`
	}{info, s.reg.loaded(name)})
}

// classifyResponse is the body of a successful classify request.
type classifyResponse struct {
	Model       string         `json:"model"`
	Predictions [][]Prediction `json:"predictions"` // one list per image, in upload order
	ElapsedMS   float64        `json:"elapsed_ms"`
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := chi.URLParam(r, "name")
	info, err := s.reg.info(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	note(r).model = name
	k := 5
	if q := r.URL.Query().Get("top_k"); q != "" {
		if k, err = strconv.Atoi(q); err != nil || k < 1 {
			s.fail(w, r, errorf(http.StatusBadRequest, "top_k %q: want a positive integer", q))
			return
		}
	}
	blobs, err := s.readImages(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	imgs := make([]image.Image, len(blobs))
	for i, b := range blobs {
		if imgs[i], err = decodeImage(b, s.cfg.MaxPixels); err != nil {
			if ae := (*apiError)(nil); len(blobs) > 1 && errors.As(err, &ae) {
				err = &apiError{status: ae.status, msg: fmt.Sprintf("image %d: %s", i+1, ae.msg)}
			}
			s.fail(w, r, err)
			return
		}
		blobs[i] = nil
	}
	slot, err := s.reg.get(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	size := info.inputSize()
	x := make([]float32, 0, len(imgs)*size)
	for i := range imgs {
		v, err := slot.b.model.Preprocess(imgs[i])
		if err != nil {
			s.fail(w, r, errorf(http.StatusBadRequest, "preprocess image %d: %v", i+1, err))
			return
		}
		if len(v) != size {
			s.fail(w, r, fmt.Errorf("preprocess image for %s: %d values, want %d", name, len(v), size))
			return
		}
		x = append(x, v...)
		imgs[i] = nil // let the decoded pixels go
	}
	logits, err := s.reg.run(r.Context(), slot, x, len(imgs))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes := len(logits) / len(imgs)
	resp := classifyResponse{Model: name, Predictions: make([][]Prediction, len(imgs))}
	for i := range imgs {
		resp.Predictions[i] = topK(logits[i*classes:(i+1)*classes], info.Labels, k)
	}
	resp.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	writeJSON(w, http.StatusOK, resp)
}

// readImages returns the request's images: the raw body, or every part
// named "image" of a multipart/form-data body.
func (s *Server) readImages(w http.ResponseWriter, r *http.Request) ([][]byte, error) {
	if r.ContentLength > s.cfg.MaxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body of %d bytes exceeds the limit of %d", r.ContentLength, s.cfg.MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := s.readAll(r.Body)
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
		return nil, errorf(http.StatusBadRequest, "read multipart body: %v", err)
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
			return nil, errorf(http.StatusBadRequest, "read multipart body: %v", err)
		}
		if p.FormName() != "image" {
			continue // NextPart skips what is left of it
		}
		if len(out) == s.cfg.MaxImages {
			return nil, errorf(http.StatusRequestEntityTooLarge, "more than %d images in one request", s.cfg.MaxImages)
		}
		b, err := s.readAll(p)
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

func (s *Server) readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if tooLarge(err) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body exceeds the limit of %d bytes", s.cfg.MaxBody)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "read body: %v", err)
	}
	return b, nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
