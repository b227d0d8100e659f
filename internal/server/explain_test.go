package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/topk"
)

// fakeGrads is ∂logits[class]/∂x of fakeLogits, which is linear in x.
func fakeGrads(class int) []float32 {
	g := make([]float32, 16)
	for i := range g {
		switch class {
		case 0:
			g[i] = -4.0 / 16
		case 1:
			g[i] = 4.0 / 16
		default:
			g[i] = -2.0 / 16
			if i%4 < 2 {
				g[i] += 8.0 / 16
			}
		}
	}
	return g
}

// fakeMap is the fake's explanation: ReLU(∂score/∂x · x), min-max
// normalised (0 where constant).
func fakeMap(x []float32, class int) []float32 {
	g := fakeGrads(class)
	m := make([]float32, 16)
	lo, hi := float32(0), float32(0)
	for i := range m {
		m[i] = max(0, g[i]*x[i])
		lo, hi = min(lo, m[i]), max(hi, m[i])
	}
	for i := range m {
		if hi > lo {
			m[i] = (m[i] - lo) / (hi - lo)
		} else {
			m[i] = 0
		}
	}
	return m
}

// Explain makes every fake model an Explainer over its one layer, "pixels".
func (m *fakeModel) Explain(ctx context.Context, x []float32, n, class int, layer string) ([]Explanation, error) {
	if layer != "" && layer != "pixels" {
		return nil, fmt.Errorf("%w: fake has no layer %q", ErrBadExplain, layer)
	}
	if class >= 3 {
		return nil, fmt.Errorf("%w: class %d", ErrBadExplain, class)
	}
	logits, err := m.Run(ctx, x, n)
	if err != nil {
		return nil, err
	}
	out := make([]Explanation, n)
	for i := range out {
		l := logits[i*3 : (i+1)*3]
		c := class
		if c < 0 {
			c = topk.TopK(l, fakeLabels, 1)[0].Index
		}
		out[i] = Explanation{Class: c, Logits: l, Layer: "pixels", H: 4, W: 4, Map: fakeMap(x[i*16:(i+1)*16], c)}
	}
	return out, nil
}

// plainCatalog serves fake models that cannot explain.
type plainCatalog struct{ *fakeCatalog }

func (c plainCatalog) Load(ctx context.Context, name string) (Model, error) {
	m, err := c.fakeCatalog.Load(ctx, name)
	return struct{ Model }{m}, err
}

type explainReply struct {
	Model        string `json:"model"`
	Layer        string `json:"layer"`
	Explanations []struct {
		Predicted Prediction  `json:"predicted"`
		Class     Prediction  `json:"class"`
		Height    int         `json:"height"`
		Width     int         `json:"width"`
		Map       [][]float32 `json:"map"`
	} `json:"explanations"`
}

func TestExplainJSON(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("fake"), Config{})
	img := greyPNG(8, 8, 20, 230) // dark left, light right
	decoded, err := png.Decode(bytes.NewReader(img))
	require.NoError(t, err)
	x := fakePixels(decoded)
	top := topk.TopK(fakeLogits(x), fakeLabels, 3)

	for _, tc := range []struct {
		query string
		class int
	}{
		{"", top[0].Index},
		{"?class=2", 2},
		{"?class=0&layer=pixels", 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain"+tc.query, img)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			got := decodeReply[explainReply](t, r)
			assert.Equal(t, "fake", got.Model)
			assert.Equal(t, "pixels", got.Layer)
			require.Len(t, got.Explanations, 1)
			e := got.Explanations[0]
			assert.Equal(t, top[0], e.Predicted)
			assert.Equal(t, tc.class, e.Class.Index)
			assert.Equal(t, fakeLabels[tc.class], e.Class.Label)
			for _, p := range top {
				if p.Index == tc.class {
					assert.InDelta(t, p.Probability, e.Class.Probability, 1e-12)
				}
			}
			require.Equal(t, 4, e.Height)
			require.Equal(t, 4, e.Width)
			require.Len(t, e.Map, 4)
			want := fakeMap(x, tc.class)
			for y, row := range e.Map {
				assert.Equal(t, want[y*4:(y+1)*4], row, "row %d", y)
			}
		})
	}
}

func TestExplainPNG(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("fake"), Config{MaxBatch: 1})
	one := greyPNG(8, 8, 20, 230)
	r := do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain?class=1", one, "Accept", "image/png")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	assert.Equal(t, "image/png", r.header.Get("Content-Type"))
	assert.Equal(t, "1", r.header.Get("X-Explained-Classes"))
	img, err := png.Decode(bytes.NewReader(r.body))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 4, 4), img.Bounds())
	// The light right half is hot for "light" (red), the dark left half
	// cold (blue).
	lr, _, lb, _ := img.At(0, 0).RGBA()
	rr, _, rb, _ := img.At(3, 0).RGBA()
	assert.Greater(t, int(rr)-int(rb), 0, "right half red over blue")
	assert.Less(t, int(lr)-int(lb), 0, "left half blue over red")

	// Two images (two batches of MaxBatch 1): overlays side by side.
	two := greyPNG(8, 8, 230, 20)
	var want []int
	for _, b := range [][]byte{one, two} {
		d, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		want = append(want, topk.TopK(fakeLogits(fakePixels(d)), fakeLabels, 1)[0].Index)
	}
	body, ct := multipartBody(t, "image", one, two)
	r = do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain", body, "Content-Type", ct, "Accept", "text/html, image/png;q=0.9")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	img, err = png.Decode(bytes.NewReader(r.body))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 4+2+4, 4), img.Bounds())
	assert.Equal(t, fmt.Sprintf("%d,%d", want[0], want[1]), r.header.Get("X-Explained-Classes"), "each image's top-1")
}

func TestExplainErrors(t *testing.T) {
	cat := newFakeCatalog("fake", "plain")
	_, ts := newTestServer(t, cat, Config{})
	img := greyPNG(8, 8, 20, 230)
	for _, tc := range []struct {
		name, path string
		body       []byte
		status     int
		msg        string
	}{
		{"class too large", "/v1/models/fake/explain?class=3", img, http.StatusBadRequest, "class"},
		{"negative class", "/v1/models/fake/explain?class=-1", img, http.StatusBadRequest, "class"},
		{"class not a number", "/v1/models/fake/explain?class=cat", img, http.StatusBadRequest, "class"},
		{"unknown layer", "/v1/models/fake/explain?layer=layer9", img, http.StatusBadRequest, "layer9"},
		{"odd layer name", "/v1/models/fake/explain?layer=a%20b", img, http.StatusBadRequest, "layer"},
		{"unknown model", "/v1/models/nope/explain", img, http.StatusNotFound, "unknown model"},
		{"empty body", "/v1/models/fake/explain", nil, http.StatusBadRequest, "empty body"},
		{"not an image", "/v1/models/fake/explain", []byte("hello"), http.StatusUnsupportedMediaType, ""},
		{"GET", "", nil, http.StatusMethodNotAllowed, "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method, path := http.MethodPost, tc.path
			if tc.name == "GET" {
				method, path = http.MethodGet, "/v1/models/fake/explain"
			}
			r := do(t, method, ts.URL+path, tc.body)
			if tc.status == http.StatusUnsupportedMediaType && r.status == http.StatusBadRequest {
				tc.status = http.StatusBadRequest // the decoder's verdict on garbage
			}
			require.Equal(t, tc.status, r.status, "body: %s", r.body)
			assert.Contains(t, r.json(t)["error"], tc.msg)
		})
	}

	_, ts2 := newTestServer(t, plainCatalog{newFakeCatalog("plain")}, Config{})
	r := do(t, http.MethodPost, ts2.URL+"/v1/models/plain/explain", img)
	require.Equal(t, http.StatusNotImplemented, r.status, "body: %s", r.body)
	assert.Contains(t, r.json(t)["error"], "cannot explain")
}

func TestExplainAuth(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("fake"), Config{Token: "s3cret"})
	img := greyPNG(8, 8, 20, 230)
	r := do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain", img)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	r = do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain", img, "Authorization", "Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	r = do(t, http.MethodPost, ts.URL+"/v1/models/fake/explain", img, "Authorization", "Bearer s3cret")
	assert.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
}
