package server

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fmixzoo/zoo/internal/heatmap"

	"github.com/fmixzoo/zoo/internal/topk"
)

// Explainer is implemented by Models that can explain their predictions
// with Grad-CAM; for other models the explain endpoint answers 501.
type Explainer interface {
	// Explain returns one Explanation per input, for n inputs laid out as
	// for Run. class < 0 explains each input's top-1 class; layer "" the
	// model's default layer (its last convolutional stage). Errors that
	// wrap ErrBadExplain are the client's (unknown layer, class out of
	// range) and answer 400 with their message. It must be safe for
	// concurrent use.
	Explain(ctx context.Context, x []float32, n, class int, layer string) ([]Explanation, error)
}

// ErrBadExplain marks an Explainer error caused by the request.
var ErrBadExplain = errors.New("bad explain request")

// ErrNoExplanations marks an Explainer error saying that this model cannot
// be explained (for instance, weights that carry no network definition);
// the endpoint answers 501 with the message.
var ErrNoExplanations = errors.New("model cannot explain its predictions")

// Explanation is one input's Grad-CAM map.
type Explanation struct {
	Class  int       // the class explained
	Logits []float32 // the input's logits
	Layer  string    // the layer explained
	// H and W are the model input's height and width; Map is H×W,
	// row-major, in [0, 1].
	H, W int
	Map  []float32
}

// explainResponse is the JSON body of a successful explain request.
type explainResponse struct {
	Model        string           `json:"model"`
	Layer        string           `json:"layer"`
	Explanations []explainedImage `json:"explanations"` // one per image, in upload order
	ElapsedMS    float64          `json:"elapsed_ms"`
}

type explainedImage struct {
	Predicted Prediction  `json:"predicted"` // the top-1 class
	Class     Prediction  `json:"class"`     // the class explained (?class=, else the top-1)
	Height    int         `json:"height"`
	Width     int         `json:"width"`
	Map       [][]float32 `json:"map"` // Height rows of Width values in [0, 1]
}

// maxLayerName bounds ?layer= (the longest zoo layer names are ~30 bytes).
const maxLayerName = 128

// explain answers POST /v1/models/{name}/explain: Grad-CAM maps for the
// request's images (the body, or multipart "image" fields, with classify's
// limits), of ?class= (default each image's top-1) at ?layer= (default the
// model's last convolutional stage). JSON by default; with "Accept:
// image/png", the maps blended over the preprocessed inputs, side by side.
// A request's images run together in batches of at most Config.MaxBatch,
// one request at a time per model (gradients hold a network's buffers).
func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name, info, ok := s.model(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	class := -1
	if v := q.Get("class"); v != "" {
		var err error
		if class, err = strconv.Atoi(v); err != nil || class < 0 || (len(info.Labels) > 0 && class >= len(info.Labels)) {
			s.fail(w, r, errorf(http.StatusBadRequest, "class %q: want a class index in [0, %d)", clip(v), len(info.Labels)))
			return
		}
	}
	layer := q.Get("layer")
	if len(layer) > maxLayerName || strings.ContainsFunc(layer, func(c rune) bool { return c < '!' || c > '~' }) {
		s.fail(w, r, errorf(http.StatusBadRequest, "layer %q: want a layer name such as layer4 or conv2", clip(layer)))
		return
	}
	asPNG := wantsPNG(r.Header.Get("Accept"))
	in, err := s.imageInput(w, r, name, info)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ex, ok := in.slot.b.model.(Explainer)
	if !ok {
		s.fail(w, r, errorf(http.StatusNotImplemented, "model %q cannot explain its predictions", name))
		return
	}
	size := info.inputSize()
	var exps []Explanation
	for i := 0; i < in.n; i += s.cfg.MaxBatch {
		j := min(in.n, i+s.cfg.MaxBatch)
		e, err := ex.Explain(r.Context(), in.x[i*size:j*size], j-i, class, layer)
		switch {
		case errors.Is(err, ErrBadExplain):
			s.fail(w, r, errorf(http.StatusBadRequest, "%s", err.Error()))
			return
		case errors.Is(err, ErrNoExplanations):
			s.fail(w, r, errorf(http.StatusNotImplemented, "%s", err.Error()))
			return
		}
		if err == nil && len(e) != j-i {
			err = errorf(http.StatusInternalServerError, "model %q explained %d of %d images", name, len(e), j-i)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		exps = append(exps, e...)
	}
	if asPNG {
		s.explainPNG(w, r, info, in, exps)
		return
	}
	resp := explainResponse{Model: name, Layer: exps[0].Layer, Explanations: make([]explainedImage, len(exps))}
	for i, e := range exps {
		all := topk.TopK(e.Logits, info.Labels, len(e.Logits))
		ei := explainedImage{Predicted: all[0], Height: e.H, Width: e.W, Map: make([][]float32, e.H)}
		for _, p := range all {
			if p.Index == e.Class {
				ei.Class = p
			}
		}
		for y := range ei.Map {
			ei.Map[y] = e.Map[y*e.W : (y+1)*e.W]
		}
		resp.Explanations[i] = ei
	}
	resp.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	writeJSON(w, http.StatusOK, resp)
}

// explainPNG writes each image's overlay, side by side in upload order.
func (s *Server) explainPNG(w http.ResponseWriter, r *http.Request, info ModelInfo, in *imageRequest, exps []Explanation) {
	c, h, wd := info.Input[0], info.Input[1], info.Input[2]
	size := info.inputSize()
	tiles := make([]image.Image, len(exps))
	for i, e := range exps {
		if e.H != h || e.W != wd || len(e.Map) != h*wd {
			s.fail(w, r, errorf(http.StatusInternalServerError, "model %q explained a %d×%d map for a %d×%d input", info.Name, e.H, e.W, h, wd))
			return
		}
		img := heatmap.Input(in.x[i*size:(i+1)*size], c, h, wd, info.Mean, info.Std)
		tiles[i] = heatmap.Overlay(img, e.Map, 0.5)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, heatmap.Row(h, 2, tiles...)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("X-Explained-Classes", explainedClasses(exps))
	_, _ = w.Write(buf.Bytes())
}

func explainedClasses(exps []Explanation) string {
	parts := make([]string, len(exps))
	for i, e := range exps {
		parts[i] = strconv.Itoa(e.Class)
	}
	return strings.Join(parts, ",")
}

// wantsPNG reports whether an Accept header prefers image/png to JSON.
func wantsPNG(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "image/png" {
			continue
		}
		if qv, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(qv, 64); err != nil || f <= 0 {
				continue
			}
		}
		return true
	}
	return false
}
