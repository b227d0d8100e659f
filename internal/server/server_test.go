package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"

	"github.com/fmixzoo/zoo/internal/topk"
)

// A 1×1 lossless WebP (the smallest valid VP8L file).
var tinyWebP, _ = base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

func newTestServer(t *testing.T, cat Catalog, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New(cat, cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	return decodeReply[map[string]any](t, r)
}

// decodeReply decodes r's JSON body into a T.
func decodeReply[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

func do(t *testing.T, method, url string, body []byte, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

func multipartBody(t *testing.T, field string, files ...[]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("note", "ignored"))
	for i, f := range files {
		w, err := mw.CreateFormFile(field, "img"+string(rune('a'+i)))
		require.NoError(t, err)
		_, err = w.Write(f)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

type classifyReply struct {
	Model       string         `json:"model"`
	Predictions [][]Prediction `json:"predictions"`
	ElapsedMS   float64        `json:"elapsed_ms"`
}

func decodeClassify(t *testing.T, r reply) classifyReply {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	return decodeReply[classifyReply](t, r)
}

func encodeWith(t *testing.T, enc func(io.Writer, image.Image) error) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White})
	for y := range 8 {
		for x := range 8 {
			img.SetColorIndex(x, y, 1) // white: "light"
		}
	}
	var buf bytes.Buffer
	require.NoError(t, enc(&buf, img))
	return buf.Bytes()
}

func TestHealth(t *testing.T) {
	cat := newFakeCatalog("a")
	s, ts := newTestServer(t, cat, Config{Models: []string{"a"}})

	for _, p := range []string{"/healthz", "/v2/health/live"} {
		assert.Equal(t, http.StatusOK, do(t, "GET", ts.URL+p, nil).status, p)
	}
	for _, p := range []string{"/readyz", "/v2/health/ready"} {
		assert.Equal(t, http.StatusServiceUnavailable, do(t, "GET", ts.URL+p, nil).status, "%s before preload", p)
	}
	require.NoError(t, s.Preload(context.Background()))
	r := do(t, "GET", ts.URL+"/readyz", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, []any{"a"}, r.json(t)["loaded"])
	assert.Equal(t, http.StatusOK, do(t, "GET", ts.URL+"/v2/health/ready", nil).status)
	assert.Equal(t, 1, cat.loadCount("a"))
	assert.Equal(t, []int{1}, cat.model("a").batchSizes(), "warm-up runs one input")
}

// TestReadyzReason: /readyz says why it is not ready (preloading, the last
// failed preload's error), and a later Preload that succeeds makes it ready.
func TestReadyzReason(t *testing.T) {
	cat := newFakeCatalog("a")
	cat.loadErr = fmt.Errorf("fetch a.onnx from s3://zoo/: dial tcp 127.0.0.1:9: connect: connection refused")
	s, ts := newTestServer(t, cat, Config{Models: []string{"a"}})

	r := do(t, "GET", ts.URL+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "preloading a", r.json(t)["reason"])

	require.ErrorContains(t, s.Preload(context.Background()), "connection refused")
	r = do(t, "GET", ts.URL+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Contains(t, r.json(t)["reason"], `preload "a"`)
	assert.Contains(t, r.json(t)["reason"], "connection refused")

	require.NoError(t, s.Preload(context.Background()), "the store is back")
	r = do(t, "GET", ts.URL+"/readyz", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, r.json(t), "reason")
}

// TestPreloadErrorKeepsItsCause: a model whose weights cannot be fetched
// fails Preload with an error that is still ErrModelUnavailable (zoo-serve
// retries the preload on it), not only its message.
func TestPreloadErrorKeepsItsCause(t *testing.T) {
	cat := newFakeCatalog("a")
	cat.loadErr = fmt.Errorf("%w: the weights of a cannot be fetched: connection refused", ErrModelUnavailable)
	s, _ := newTestServer(t, cat, Config{Models: []string{"a"}})
	err := s.Preload(context.Background())
	require.ErrorIs(t, err, ErrModelUnavailable)
	assert.ErrorContains(t, err, "connection refused")
}

func TestPreloadUnknownModel(t *testing.T) {
	s, _ := newTestServer(t, newFakeCatalog("a"), Config{Models: []string{"nope"}})
	err := s.Preload(context.Background())
	require.ErrorContains(t, err, `unknown model "nope"`)
	assert.False(t, s.Ready())
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{MaxBatch: -1}, {MaxBody: -5}, {Models: []string{"a", "b"}, MaxModels: 1}} {
		_, err := New(newFakeCatalog("a", "b"), cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestListAndDescribe(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("cifar_a", "cifar_b", "fashion_c"), Config{})
	tests := []struct {
		url    string
		status int
		names  []string
	}{
		{"/v1/models", 200, []string{"cifar_a", "cifar_b", "fashion_c"}},
		{"/v1/models?filter=cifar_*", 200, []string{"cifar_a", "cifar_b"}},
		{"/v1/models?filter=none*", 200, nil},
		{"/v1/models?filter=%5B", 400, nil},
	}
	for _, tt := range tests {
		r := do(t, "GET", ts.URL+tt.url, nil)
		require.Equal(t, tt.status, r.status, tt.url)
		if tt.status != 200 {
			assert.Contains(t, r.json(t)["error"], "filter")
			continue
		}
		got := decodeReply[struct{ Models []modelSummary }](t, r)
		var names []string
		for _, m := range got.Models {
			names = append(names, m.Name)
			assert.Equal(t, []int{1, 4, 4}, m.Input)
			assert.False(t, m.Loaded)
		}
		assert.Equal(t, tt.names, names, tt.url)
	}

	r := do(t, "GET", ts.URL+"/v1/models/cifar_b", nil)
	require.Equal(t, 200, r.status)
	m := r.json(t)
	assert.Equal(t, "cifar_b", m["name"])
	assert.Equal(t, "fake", m["arch"])
	assert.Equal(t, []any{"dark", "light", "left"}, m["labels"])
	assert.Equal(t, false, m["loaded"])

	r = do(t, "GET", ts.URL+"/v1/models/zzz", nil)
	assert.Equal(t, 404, r.status)
	assert.Contains(t, r.json(t)["error"], `unknown model "zzz"`)
}

func TestClassifyFormats(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	tests := []struct {
		name string
		body []byte
		top1 string
	}{
		{"png dark", greyPNG(8, 8, 0, 0), "dark"},
		{"png light", greyPNG(8, 8, 255, 255), "light"},
		{"png left", greyPNG(8, 8, 255, 0), "left"},
		{"jpeg", encodeWith(t, func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, nil) }), "light"},
		{"gif", encodeWith(t, func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }), "light"},
		{"bmp", encodeWith(t, bmp.Encode), "light"},
		{"webp", tinyWebP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify", tt.body, "Content-Type", "application/octet-stream"))
			assert.Equal(t, "m", c.Model)
			require.Len(t, c.Predictions, 1)
			require.Len(t, c.Predictions[0], 3, "top_k defaults to 5, capped at the class count")
			if tt.top1 != "" {
				assert.Equal(t, tt.top1, c.Predictions[0][0].Label)
			}
			var sum float64
			for i, p := range c.Predictions[0] {
				sum += p.Probability
				if i > 0 {
					assert.LessOrEqual(t, p.Probability, c.Predictions[0][i-1].Probability)
				}
			}
			assert.InDelta(t, 1, sum, 1e-6)
		})
	}
}

func TestClassifyTopKAndMultipart(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	c := decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify?top_k=1", greyPNG(4, 4, 0, 0)))
	require.Len(t, c.Predictions[0], 1)
	assert.Equal(t, Prediction{Label: "dark", Index: 0, Probability: c.Predictions[0][0].Probability}, c.Predictions[0][0])

	images := [][]byte{greyPNG(8, 8, 255, 255), greyPNG(8, 8, 0, 0), greyPNG(8, 8, 255, 0)}
	body, ct := multipartBody(t, "image", images...)
	c = decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify?top_k=2", body, "Content-Type", ct))
	require.Len(t, c.Predictions, 3)
	for i, want := range []string{"light", "dark", "left"} {
		assert.Len(t, c.Predictions[i], 2)
		assert.Equal(t, want, c.Predictions[i][0].Label, "image %d", i)
	}
}

func TestClassifyErrors(t *testing.T) {
	cat := newFakeCatalog("m")
	_, ts := newTestServer(t, cat, Config{MaxBody: 4096, MaxPixels: 100 * 100, MaxImages: 2})
	png := greyPNG(8, 8, 0, 0)
	big := greyPNG(101, 100, 0, 0)
	require.Less(t, len(big), 4096, "the pixel limit, not the body limit, must trip")
	three, ct3 := multipartBody(t, "image", png, png, png)
	none, ctNone := multipartBody(t, "file", png)
	oneBad, ctBad := multipartBody(t, "image", png, []byte("plain text"))
	tests := []struct {
		name   string
		url    string
		body   []byte
		header []string
		status int
		msg    string
	}{
		{"unknown model", "/v1/models/nope/classify", png, nil, 404, `unknown model "nope"`},
		{"body too large", "/v1/models/m/classify", make([]byte, 5000), nil, 413, "exceeds the limit of 4096"},
		{"too many pixels", "/v1/models/m/classify", big, nil, 413, "10100 pixels"},
		{"unsupported media", "/v1/models/m/classify", []byte("hello, world"), nil, 415, "unsupported media type"},
		{"truncated png", "/v1/models/m/classify", png[:40], nil, 400, "decode png"},
		{"bmp magic, junk", "/v1/models/m/classify", []byte("BM not really a bitmap"), nil, 400, "decode bmp"},
		{"empty body", "/v1/models/m/classify", nil, nil, 400, "empty body"},
		{"top_k zero", "/v1/models/m/classify?top_k=0", png, nil, 400, "top_k"},
		{"top_k text", "/v1/models/m/classify?top_k=five", png, nil, 400, "top_k"},
		{"too many images", "/v1/models/m/classify", three, []string{"Content-Type", ct3}, 413, "more than 2 images"},
		{"no image field", "/v1/models/m/classify", none, []string{"Content-Type", ctNone}, 400, `no field named "image"`},
		{"second image bad", "/v1/models/m/classify", oneBad, []string{"Content-Type", ctBad}, 415, "image 2: unsupported"},
		{"broken multipart", "/v1/models/m/classify", []byte("--x\r\nnope"), []string{"Content-Type", "multipart/form-data; boundary=x"}, 400, "multipart"},
		{"wrong method", "/v1/models/m/classify", nil, nil, 405, "not allowed"},
		{"no such endpoint", "/v1/nothing", nil, nil, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.status == 405 {
				method = "GET"
			}
			r := do(t, method, ts.URL+tt.url, tt.body, tt.header...)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Contains(t, r.json(t)["error"], tt.msg)
		})
	}
	assert.Zero(t, cat.loadCount("m"), "no bad request loads the model")
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{MaxBody: 1024})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(make([]byte, 4096))
		_ = pw.Close()
	}()
	resp, err := http.Post(ts.URL+"/v1/models/m/classify", "image/png", pr)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode)
}

// TestBatching sends many concurrent requests to a slow model: they must be
// run in batches, and each must get the logits of its own image.
func TestBatching(t *testing.T) {
	cat := newFakeCatalog("m")
	cat.configure = func(m *fakeModel) { m.delay = 20 * time.Millisecond }
	_, ts := newTestServer(t, cat, Config{MaxBatch: 8, BatchDelay: 5 * time.Millisecond})
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left, right := uint8(i*6), uint8(255-i*6)
			body := greyPNG(8, 8, left, right)
			img, _ := decodeImage(body, 1e6)
			want := topk.TopK(fakeLogits(fakePixels(img)), fakeLabels, 3)
			resp, err := http.Post(ts.URL+"/v1/models/m/classify", "image/png", bytes.NewReader(body))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var got classifyReply
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
				errs <- resp.Status
				return
			}
			for k := range want {
				if got.Predictions[0][k].Index != want[k].Index || !near(got.Predictions[0][k].Probability, want[k].Probability) {
					errs <- "request got another image's result"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	sizes := cat.model("m").batchSizes()[1:] // after the warm-up
	total, largest := 0, 0
	for _, s := range sizes {
		total += s
		largest = max(largest, s)
		assert.LessOrEqual(t, s, 8)
	}
	assert.Equal(t, n, total)
	assert.Greater(t, largest, 1, "batches %v", sizes)
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestQueueFull(t *testing.T) {
	cat := newFakeCatalog("m")
	gate := make(chan struct{})
	s, ts := newTestServer(t, cat, Config{MaxBatch: 1, MaxQueue: 1, BatchDelay: -1})
	cat.configure = func(m *fakeModel) { m.gate = gate }
	go func() { gate <- struct{}{} }() // lets the warm-up through
	done := make(chan int, 2)
	post := func() {
		resp, err := http.Post(ts.URL+"/v1/models/m/classify", "image/png", bytes.NewReader(greyPNG(4, 4, 0, 0)))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}
	go post() // reaches the model and waits at the gate
	require.Eventually(t, func() bool { m := cat.model("m"); return m != nil && m.entered.Load() == 2 }, 5*time.Second, time.Millisecond)
	go post() // waits in the queue, which is then full
	s.reg.mu.Lock()
	queue := s.reg.models["m"].b.queue
	s.reg.mu.Unlock()
	require.Eventually(t, func() bool { return len(queue) == 1 }, 5*time.Second, time.Millisecond)

	r := do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0))
	require.Equal(t, http.StatusServiceUnavailable, r.status, "body: %s", r.body)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Contains(t, r.json(t)["error"], "queue full")
	gate <- struct{}{}
	gate <- struct{}{}
	assert.Equal(t, 200, <-done)
	assert.Equal(t, 200, <-done)
}

func TestLRUUnload(t *testing.T) {
	cat := newFakeCatalog("a", "b")
	_, ts := newTestServer(t, cat, Config{MaxModels: 1})
	png := greyPNG(4, 4, 0, 0)
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/a/classify", png))
	assert.Equal(t, true, do(t, "GET", ts.URL+"/v1/models/a", nil).json(t)["loaded"])
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/b/classify", png))
	assert.Equal(t, false, do(t, "GET", ts.URL+"/v1/models/a", nil).json(t)["loaded"], "a is unloaded for b")
	assert.Equal(t, true, do(t, "GET", ts.URL+"/v1/models/b", nil).json(t)["loaded"])
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/a/classify", png))
	assert.Equal(t, 2, cat.loadCount("a"))
	assert.Equal(t, 1, cat.loadCount("b"))
}

func TestLoadFailureIsRetried(t *testing.T) {
	cat := newFakeCatalog("m", "m2")
	cat.loadErr = io.ErrUnexpectedEOF
	_, ts := newTestServer(t, cat, Config{})
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0))
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "internal error", r.json(t)["error"])
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0)))

	cat.loadErr = fmt.Errorf("fetch weights: %w", ErrModelUnavailable)
	r = do(t, "POST", ts.URL+"/v1/models/m2/classify", greyPNG(4, 4, 0, 0))
	assert.Equal(t, 503, r.status)
	assert.Equal(t, `load model "m2": fetch weights: model unavailable`, r.json(t)["error"])
}

func TestAuth(t *testing.T) {
	var logs bytes.Buffer
	const token = "s3cret-t0ken"
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{Token: token, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	tests := []struct {
		method, path string
		auth         string
		status       int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/v2/health/live", "", 200},
		{"GET", "/", "", 200},
		{"GET", "/assets/app.js", "", 200},
		{"GET", "/metrics", "", 401},
		{"GET", "/v1/models", "", 401},
		{"GET", "/v1/models", "Bearer wrong", 401},
		{"GET", "/v1/models", token, 401},
		{"GET", "/v1/models", "Bearer " + token + "x", 401},
		{"GET", "/v1/models", "Bearer " + token, 200},
		{"GET", "/v2", "", 401},
		{"GET", "/v2/models/m", "", 401},
		{"POST", "/v1/models/m/classify", "", 401},
		{"POST", "/v1/models/m/classify", "Bearer " + token, 200},
		{"GET", "/metrics", "Bearer " + token, 200},
	}
	for _, tt := range tests {
		var h []string
		if tt.auth != "" {
			h = []string{"Authorization", tt.auth}
		}
		r := do(t, tt.method, ts.URL+tt.path+"?token="+token, greyPNG(4, 4, 0, 0), h...)
		assert.Equal(t, tt.status, r.status, "%s %s with %q", tt.method, tt.path, tt.auth)
		if tt.status == 401 {
			assert.Equal(t, `Bearer realm="zoo-serve"`, r.header.Get("WWW-Authenticate"))
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	requests := 0
	for _, l := range lines {
		if strings.Contains(l, `"msg":"request"`) {
			requests++
		}
	}
	assert.Equal(t, len(tests), requests, "one log line per request")
	assert.NotContains(t, logs.String(), "s3cret", "the token never reaches the log")
}

func TestMetrics(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0)))
	do(t, "POST", ts.URL+"/v1/models/m/classify", []byte("text"))
	do(t, "POST", ts.URL+"/v1/models/nope/classify", []byte("text"))
	r := do(t, "GET", ts.URL+"/metrics", nil)
	require.Equal(t, 200, r.status)
	text := string(r.body)
	for _, want := range []string{
		`zoo_requests_total{code="200",model="m"} 1`,
		`zoo_requests_total{code="415",model="m"} 1`,
		`zoo_requests_total{code="404",model=""} 1`,
		`zoo_request_duration_seconds_count{model="m"} 2`,
		`zoo_queue_wait_seconds_count{model="m"} 1`,
		`zoo_batch_size_count{model="m"} 1`,
		`zoo_inference_duration_seconds_count{model="m"} 1`,
		`zoo_requests_in_flight 1`,
		`zoo_models_loaded 1`,
		`zoo_model_loads_total{model="m",result="ok"} 1`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}
}

func TestRecoverer(t *testing.T) {
	cat := newFakeCatalog("m")
	cat.configure = func(m *fakeModel) { m.panicPrep = true }
	_, ts := newTestServer(t, cat, Config{})
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0))
	assert.Equal(t, 500, r.status)
	assert.Equal(t, "internal error", r.json(t)["error"])
	assert.Equal(t, 200, do(t, "GET", ts.URL+"/healthz", nil).status, "the server lives on")
}

func TestRequestTimeout(t *testing.T) {
	cat := newFakeCatalog("m")
	_, ts := newTestServer(t, cat, Config{RequestTimeout: 100 * time.Millisecond})
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0)))
	gate := make(chan struct{})
	cat.model("m").gate = gate
	defer close(gate)
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(4, 4, 0, 0))
	assert.Equal(t, 503, r.status)
	assert.Contains(t, r.json(t)["error"], "timed out")
}

// TestGracefulShutdown cancels Serve while a request is being served: the
// request completes and Serve returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	cat := newFakeCatalog("m")
	cat.configure = func(m *fakeModel) { m.delay = 300 * time.Millisecond }
	s, err := New(cat, Config{Models: []string{"m"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.NoError(t, s.Preload(context.Background()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 5*time.Second) }()

	url := "http://" + ln.Addr().String()
	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/v1/models/m/classify", "image/png", bytes.NewReader(greyPNG(4, 4, 0, 0)))
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return cat.model("m").entered.Load() == 2 }, 5*time.Second, time.Millisecond,
		"the request reaches the model (after the warm-up)")
	cancel()
	assert.Equal(t, 200, <-status, "the in-flight request completes")
	require.NoError(t, <-served)
	assert.False(t, s.Ready())
	_, err = http.Get(url + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

func TestDemoPage(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{})
	r := do(t, "GET", ts.URL+"/", nil)
	require.Equal(t, 200, r.status)
	assert.Contains(t, r.header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(r.body), `<script src="/assets/app.js">`)
	assert.NotContains(t, string(r.body), "http", "nothing from a CDN")
	for _, a := range []string{"/assets/app.js", "/assets/style.css"} {
		r := do(t, "GET", ts.URL+a, nil)
		require.Equal(t, 200, r.status, a)
		assert.NotContains(t, string(r.body), "://", "%s loads nothing from elsewhere", a)
	}
	assert.Equal(t, 404, do(t, "GET", ts.URL+"/assets/nope.js", nil).status)
}
