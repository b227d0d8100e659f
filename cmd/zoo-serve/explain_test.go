package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The explain endpoint on a shipped model: the zoo network rebuilt from the
// served ONNX file agrees with the engine's top-1, and its Grad-CAM map
// comes back as JSON and as a PNG overlay.
func TestExplainShippedModel(t *testing.T) {
	const name = "lenet_fashion_fmix"
	m, err := hub.DefaultManifest()
	require.NoError(t, err)
	cat := &hubCatalog{m: m, opts: []hub.Option{hub.WithManifest(m), hub.WithStoreURI(hub.DefaultStoreURI),
		hub.WithCache(t.TempDir()), hub.WithProgress(nil)}}
	s, err := server.New(cat, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })

	// A bright "trouser-like" pair of bars on black.
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 3; y < 26; y++ {
		for _, x0 := range []int{8, 16} {
			for x := x0; x < x0+4; x++ {
				img.SetGray(x, y, color.Gray{Y: 220})
			}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	post := func(path string, accept string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	var cls struct {
		Predictions [][]server.Prediction `json:"predictions"`
	}
	resp := post("/v1/models/"+name+"/classify", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cls))

	var ex struct {
		Layer        string `json:"layer"`
		Explanations []struct {
			Predicted server.Prediction `json:"predicted"`
			Class     server.Prediction `json:"class"`
			Map       [][]float32       `json:"map"`
		} `json:"explanations"`
	}
	resp = post("/v1/models/"+name+"/explain", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ex))
	assert.Equal(t, "conv2", ex.Layer)
	require.Len(t, ex.Explanations, 1)
	e := ex.Explanations[0]
	assert.Equal(t, cls.Predictions[0][0].Index, e.Predicted.Index, "the rebuilt network's top-1 is the engine's")
	assert.InDelta(t, cls.Predictions[0][0].Probability, e.Predicted.Probability, 1e-4)
	assert.Equal(t, e.Predicted, e.Class)
	require.Len(t, e.Map, 28)
	lo, hi := float32(1), float32(0)
	for _, row := range e.Map {
		require.Len(t, row, 28)
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	assert.Equal(t, float32(0), lo)
	assert.Equal(t, float32(1), hi)

	resp = post("/v1/models/"+name+"/explain?class=3&layer=conv1", "image/png")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("X-Explained-Classes"))
	overlay, err := png.Decode(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 28, 28), overlay.Bounds())

	for _, layer := range []string{"fc1", "layer4"} {
		resp = post("/v1/models/"+name+"/explain?layer="+layer, "")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, layer)
	}
}
