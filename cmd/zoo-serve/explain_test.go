package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
	"github.com/fmixzoo/zoo/internal/server/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The explain endpoint on a shipped model: the zoo network rebuilt from the
// served ONNX file agrees with the engine's top-1, and its Grad-CAM map
// comes back as JSON and as a PNG overlay.
func shippedServer(t *testing.T) *httptest.Server {
	t.Helper()
	m, err := hub.DefaultManifest()
	require.NoError(t, err)
	cat := &hubCatalog{m: m, client: &hub.Client{Manifest: m, CacheDir: t.TempDir()}}
	s, err := server.New(cat, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return ts
}

// barsPNG is a bright "trouser-like" pair of bars on black, 28×28.
func barsPNG(t *testing.T, shift int) []byte {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 3; y < 26; y++ {
		for _, x0 := range []int{8 + shift, 16 + shift} {
			for x := x0; x < x0+4; x++ {
				img.SetGray(x, y, color.Gray{Y: 220})
			}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func TestExplainShippedModel(t *testing.T) {
	const name = "lenet_fashion_fmix"
	ts := shippedServer(t)
	buf := bytes.NewBuffer(barsPNG(t, 0))
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

// Concurrent explain requests share one rebuilt network, one at a time:
// every answer is the one a lone request gets.
func TestExplainConcurrentRequests(t *testing.T) {
	ts := shippedServer(t)
	url := ts.URL + "/v1/models/lenet_fashion_baseline/explain"
	explain := func(body []byte) ([]byte, error) {
		resp, err := http.Post(url, "image/png", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var r struct {
			Explanations []json.RawMessage `json:"explanations"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK || len(r.Explanations) != 1 {
			return nil, fmt.Errorf("status %d, %d explanations", resp.StatusCode, len(r.Explanations))
		}
		return r.Explanations[0], nil
	}
	imgs := [][]byte{barsPNG(t, -3), barsPNG(t, 0), barsPNG(t, 3)}
	want := make([][]byte, len(imgs))
	for i, b := range imgs {
		var err error
		want[i], err = explain(b)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for g := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := explain(imgs[g%3])
			if err == nil && !bytes.Equal(got, want[g%3]) {
				err = fmt.Errorf("request %d: a different explanation", g)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The demo page's "Why?" toggle on a shipped model and a real
// Fashion-MNIST image: the overlay is the model's 28×28 input with a
// heatmap over it, not a blank or uniform picture.
func TestDemoOverlayShippedModel(t *testing.T) {
	s := demotest.NewSession(t, "demo-why.png")
	ts := shippedServer(t)
	o, err := s.Explain(ts.URL + "/")
	require.NoError(t, err)
	keepScreenshot(t, s.Shot)
	t.Logf("demo page screenshot: %s (overlay %+v)", s.Shot, o)
	assert.Equal(t, 28, o.Width)
	assert.Equal(t, 28, o.Height)
	assert.Greater(t, o.Distinct, 50, "a heatmap over a photo has many colours")
	assert.Greater(t, o.StdDev, 10.0)
	assert.Contains(t, o.Caption, "Where the model looked")
}
