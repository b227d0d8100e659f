package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// errOnSeven fails any batch holding an input value of 7, as a model may
// fail on one row's input.
type errOnSeven struct{ fakeModel }

func (m *errOnSeven) Run(ctx context.Context, x []float32, n int) ([]float32, error) {
	for _, v := range x {
		if v == 7 {
			return nil, errors.New("seven")
		}
	}
	return m.fakeModel.Run(ctx, x, n)
}

// TestBatchRowIsolation: a job whose input makes the model's output
// non-finite (finite but huge values), or makes the model fail, fails its
// own request only; the other jobs of its batch get their logits.
func TestBatchRowIsolation(t *testing.T) {
	huge := make([]float32, 16)
	seven := make([]float32, 16)
	for i := range huge {
		huge[i], seven[i] = 3e38, 7
	}
	tests := []struct {
		name   string
		model  Model
		bad    []float32
		status int // of the bad job's error; 0: an internal error
	}{
		{"non-finite logits", &fakeModel{}, huge, http.StatusUnprocessableEntity},
		{"the batch fails", &errOnSeven{}, seven, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBatcher("m", tt.model, 16, Config{MaxBatch: 32, BatchDelay: 50 * time.Millisecond, MaxQueue: 64, Workers: 1}, newMetrics())
			defer b.wait()
			defer b.close()
			var wg sync.WaitGroup
			errs := make([]error, 9)
			logits := make([][]float32, 9)
			for i := range 9 {
				x := flatInput(float32(i) / 8)
				if i == 4 {
					x = tt.bad
				}
				wg.Go(func() { logits[i], errs[i] = b.submit(context.Background(), x, 1) })
			}
			wg.Wait()
			for i := range 9 {
				if i == 4 {
					require.Error(t, errs[i])
					var ae *apiError
					if tt.status != 0 {
						require.ErrorAs(t, errs[i], &ae)
						assert.Equal(t, tt.status, ae.status)
						assert.Contains(t, ae.msg, "not finite")
					} else {
						assert.False(t, errors.As(errs[i], &ae), "an internal error: %v", errs[i])
					}
					continue
				}
				require.NoError(t, errs[i], "job %d", i)
				assert.Equal(t, fakeLogits(flatInput(float32(i)/8)), logits[i])
			}
		})
	}
}

// TestHugeValuesDoNotFailOthers is issue 18's "one client fails others"
// under load: clients sending finite but huge values (3e38) get 422, and
// the good requests of other clients batched with them all succeed.
func TestHugeValuesDoNotFailOthers(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{BatchDelay: time.Millisecond})
	bad := make([]float32, 16)
	for i := range bad {
		bad[i] = 3e38
	}
	badBody := inferJSON(t, []int{1, 1, 4, 4}, bad, "")
	goodBody := inferJSON(t, []int{1, 1, 4, 4}, flatInput(0.25), "")
	deadline := time.Now().Add(1500 * time.Millisecond)
	var good, goodFailed, badOK, badOther atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	post := func(body []byte) (int, error) {
		resp, err := client.Post(ts.URL+"/v2/models/m/infer", "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	var wg sync.WaitGroup
	for c := range 12 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if c < 4 {
					st, err := post(badBody)
					switch {
					case err == nil && st == http.StatusUnprocessableEntity:
						badOK.Add(1)
					default:
						badOther.Add(1)
					}
					continue
				}
				st, err := post(goodBody)
				good.Add(1)
				if err != nil || st != http.StatusOK {
					goodFailed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("good requests: %d, failed %d; huge-value requests: %d answered 422, %d otherwise", good.Load(), goodFailed.Load(), badOK.Load(), badOther.Load())
	require.Positive(t, good.Load())
	require.Positive(t, badOK.Load())
	assert.Zero(t, goodFailed.Load())
	assert.Zero(t, badOther.Load())
}

// TestBudgetSpent: while the decoding budget is spent, an image request
// waits, then gets 503 with Retry-After; once it is released, it succeeds.
func TestBudgetSpent(t *testing.T) {
	s, ts := newTestServer(t, newFakeCatalog("m"), Config{DecodeMemory: 64 << 20})
	s.budget.wait = 100 * time.Millisecond
	require.NoError(t, s.budget.acquire(context.Background(), 64<<20, "test"))
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(8, 8, 0, 255))
	require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Contains(t, r.json(t)["error"], "memory for decoding")
	assert.Contains(t, string(do(t, "GET", ts.URL+"/metrics", nil).body), "zoo_decode_memory_bytes 6.7108864e+07")
	s.budget.release(64 << 20)
	r = do(t, "POST", ts.URL+"/v1/models/m/classify", greyPNG(8, 8, 0, 255))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Zero(t, s.budget.inUse())
}

// TestDecodeStopsWithItsRequest: a progressive JPEG bomb let through (scan
// limit off) is cut at the request's deadline: the answer comes at the
// deadline and the decode gives back its slot and memory within
// milliseconds, instead of running for seconds after its client left.
func TestDecodeStopsWithItsRequest(t *testing.T) {
	s, ts := newTestServer(t, newFakeCatalog("m"), Config{MaxJPEGScans: 1 << 30, RequestTimeout: 300 * time.Millisecond})
	bomb := progressiveJPEG(4096, 4096, 2000)
	start := time.Now()
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", bomb)
	answered := time.Since(start)
	require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	assert.Contains(t, r.json(t)["error"], "timed out")
	require.Eventually(t, func() bool { return len(s.decodeSlots) == 0 && s.budget.inUse() == 0 }, time.Second, time.Millisecond)
	freed := time.Since(start)
	t.Logf("answered after %v, decode slot and budget free after %v", answered, freed)
	assert.Less(t, answered, 2*time.Second)
	assert.Less(t, freed-answered, 500*time.Millisecond)
}

// TestBearerCaseInsensitive: RFC 7235 auth schemes are case-insensitive.
func TestBearerCaseInsensitive(t *testing.T) {
	_, ts := newTestServer(t, newFakeCatalog("m"), Config{Token: "s3cret"})
	for _, h := range []string{"Bearer s3cret", "bearer s3cret", "BEARER s3cret", "Bearer  s3cret"} {
		assert.Equal(t, 200, do(t, "GET", ts.URL+"/v1/models", nil, "Authorization", h).status, h)
	}
	for _, h := range []string{"Basic s3cret", "Bearers3cret", "bearer wrong", "s3cret"} {
		assert.Equal(t, 401, do(t, "GET", ts.URL+"/v1/models", nil, "Authorization", h).status, h)
	}
}

// TestEchoIsClipped: error bodies and log lines repeat at most a short
// prefix of what the client sent.
func TestEchoIsClipped(t *testing.T) {
	var logs testutil.SyncBuffer
	cat := newFakeCatalog("m")
	_, ts := newTestServer(t, cat, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	long := strings.Repeat("x", 60_000)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
	}{
		{"model name", "GET", "/v1/models/" + long, nil, 404},
		{"endpoint", "GET", "/" + long, nil, 404},
		{"top_k", "POST", "/v1/models/m/classify?top_k=" + long, greyPNG(4, 4, 0, 0), 400},
		{"filter", "GET", "/v1/models?filter=[" + long, nil, 400},
		{"input name", "POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"` + long + `","shape":[1,1,4,4],"datatype":"FP32","data":[0]}]}`), 400},
		{"datatype", "POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"` + long + `","data":[0]}]}`), 400},
		{"shape", "POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"input","shape":[1` + strings.Repeat(",1", 20_000) + `],"datatype":"FP32","data":[0]}]}`), 400},
		{"number", "POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"FP32","data":[1` + strings.Repeat("0", 60_000) + `]}]}`), 400},
		{"parameter", "POST", "/v2/models/m/infer", []byte(`{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"FP32","parameters":{"binary_data_size":"` + long + `"}}]}`), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, ts.URL+tt.path, tt.body)
			require.Equal(t, tt.status, r.status, "%.200s", r.body)
			assert.Less(t, len(r.body), 400, "%.400s", r.body)
			assert.NotContains(t, string(r.body), strings.Repeat("x", maxEcho+1))
		})
	}
	r := do(t, "POST", ts.URL+"/v1/models/m/classify", []byte("--b\r\n"+long+"\r\n\r\n"), "Content-Type", "multipart/form-data; boundary=b")
	require.Equal(t, 400, r.status)
	assert.Contains(t, r.json(t)["error"], "read multipart body")
	assert.Less(t, len(r.body), 400, "%.400s", r.body)
	for _, line := range strings.Split(logs.String(), "\n") {
		assert.Less(t, len(line), 1024, "%.300s", line)
	}
}

// TestSlowClientsAndConnectionCap: Serve holds at most MaxConns
// connections; clients that send their headers or body slowly are cut at
// ReadTimeout, which frees their places for others.
func TestSlowClientsAndConnectionCap(t *testing.T) {
	s, err := New(newFakeCatalog("m"), Config{MaxConns: 2, ReadTimeout: 400 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, time.Second) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	addr := ln.Addr().String()

	// Two slow clients take both places: one trickles its headers, one its body.
	slow := func(req string) net.Conn {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, err = c.Write([]byte(req))
		require.NoError(t, err)
		return c
	}
	c1 := slow("GET /healthz HTTP/1.1\r\nHost: x\r\n")
	defer c1.Close()
	c2 := slow("POST /v1/models/m/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n\x89PNG")
	defer c2.Close()
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	waited := time.Since(start)
	t.Logf("a third client waited %v for a place", waited)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Greater(t, waited, 250*time.Millisecond, "served only once a slow client was cut")
	assert.Less(t, waited, 2*time.Second)

	// The slow clients' connections were closed by the server.
	for _, c := range []net.Conn{c1, c2} {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(2*time.Second)))
		_, err := io.ReadAll(c)
		var ne net.Error
		assert.False(t, errors.As(err, &ne) && ne.Timeout(), "connection still open: %v", err)
	}
}
