package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server/demotest"
	"github.com/fmixzoo/zoo/internal/server/zootest"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// process is a running zoo-serve.
type process struct {
	*testutil.Proc
	url string
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// start builds zoo-serve and runs it on a random loopback port
// and waits until it is ready.
func start(t *testing.T, m zootest.Served, args ...string) *process {
	t.Helper()
	bin := testutil.GoBuild(t, "github.com/fmixzoo/zoo/cmd/zoo-serve")
	env := append(os.Environ(), append(m.Env(), "ZOO_CACHE="+t.TempDir(), "ZOO_TOKEN=")...)
	p := &process{Proc: testutil.Start(t, env, bin, append([]string{"--addr", "127.0.0.1:0", "--models", m.Name}, args...)...)}
	p.url = "http://" + p.WaitLog(t, listenRE, 60*time.Second)[1]
	p.WaitOK(t, p.url+"/readyz", 5*time.Minute)
	return p
}

// keepScreenshot copies the demo page's screenshot to ZOO_KEEP_SCREENSHOT,
// when set, so that it outlives the test.
func keepScreenshot(t *testing.T, shot string) {
	t.Helper()
	if keep := os.Getenv("ZOO_KEEP_SCREENSHOT"); keep != "" {
		data, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(keep, data, 0o644))
	}
}

type classified struct {
	Model       string             `json:"model"`
	Predictions [][]hub.Prediction `json:"predictions"`
}

func classify(client *http.Client, url, model string, png []byte) (classified, int, error) {
	var c classified
	resp, err := client.Post(url+"/v1/models/"+model+"/classify?top_k=1", "image/png", bytes.NewReader(png))
	if err != nil {
		return c, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, resp.StatusCode, err
	}
	if resp.StatusCode != 200 {
		return c, resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return c, 200, json.Unmarshal(body, &c)
}

// TestServeFashionAccuracy starts the real binary and classifies 1000 real
// Fashion-MNIST test images over HTTP: the accuracy must equal the same
// model's in-process figure through package hub.
func TestServeFashionAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	testutil.NeedFile(t, zootest.FashionDir)
	const n = 1000
	imgs, labels, err := zootest.FashionTest(n)
	require.NoError(t, err)
	m, err := zootest.FashionModel(t.TempDir())
	require.NoError(t, err)
	t.Logf("model %s: %s", m.Name, m.Source)

	// In process, in batches of 100.
	opts, err := m.Options()
	require.NoError(t, err)
	model, err := hub.LoadContext(context.Background(), m.Name, append(opts, hub.WithCache(t.TempDir()))...)
	require.NoError(t, err)
	local := make([]int, n)
	for i := 0; i < n; i += 100 {
		batch := make([]image.Image, 100)
		for j := range batch {
			batch[j] = imgs[i+j]
		}
		preds, err := model.Predict(context.Background(), batch, 1)
		require.NoError(t, err)
		for j, p := range preds {
			local[i+j] = p[0].Index
		}
	}

	// Over HTTP, 16 clients at a time, so the server batches.
	p := start(t, m)
	remote := make([]int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, _, err := classify(http.DefaultClient, p.url, m.Name, zootest.PNG(imgs[i]))
				if err != nil {
					errs <- fmt.Errorf("image %d: %w", i, err)
					continue
				}
				remote[i] = c.Predictions[0][0].Index
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var okLocal, okRemote, differ int
	for i := range n {
		if local[i] == labels[i] {
			okLocal++
		}
		if remote[i] == labels[i] {
			okRemote++
		}
		if local[i] != remote[i] {
			differ++
		}
	}
	t.Logf("top-1 accuracy over %d Fashion-MNIST test images: server %.1f%%, in-process %.1f%%; %d images differ",
		n, 100*float64(okRemote)/n, 100*float64(okLocal)/n, differ)
	assert.Equal(t, okLocal, okRemote, "server and in-process accuracy")
	assert.Zero(t, differ, "images classified differently by the server and in process")
	assert.Contains(t, p.Logs.String(), `msg=request method=POST path=/v1/models/`+m.Name+`/classify status=200`)

	// The demo page, against the same process, with the first image.
	t.Run("demo page", func(t *testing.T) {
		s := demotest.NewSession(t, "demo.png") // the first test image, as local[0] and labels[0]
		r, err := s.Run(p.url + "/")
		require.NoError(t, err)
		keepScreenshot(t, s.Shot)
		t.Logf("demo page screenshot: %s (top-1 %q, %d bars, %s; true label %q)", s.Shot, r.Top1, r.Bars, r.Status, model.Info().Labels[labels[0]])
		assert.Equal(t, model.Info().Labels[local[0]], r.Top1, "the page shows the in-process top-1")
		assert.Equal(t, 5, r.Bars)
		assert.Contains(t, r.Status, m.Name)
	})
}

// TestSIGTERMDrains sends SIGTERM while requests wait in the batching queue:
// every one of them must complete, and the process must exit cleanly.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	testutil.NeedFile(t, zootest.FashionDir)
	imgs, _, err := zootest.FashionTest(32)
	require.NoError(t, err)
	m, err := zootest.FashionModel(t.TempDir())
	require.NoError(t, err)
	// A long batch delay keeps the requests in flight long enough to signal.
	p := start(t, m, "--batch-delay", "1500ms", "--max-batch", "256", "--shutdown-timeout", "30s")

	const k = 32
	status := make(chan error, k)
	for i := range k {
		go func() {
			_, _, err := classify(http.DefaultClient, p.url, m.Name, zootest.PNG(imgs[i]))
			status <- err
		}()
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), fmt.Sprintf("zoo_requests_in_flight %d\n", k+1))
	}, 10*time.Second, 5*time.Millisecond, "all requests in flight")
	require.NoError(t, p.Cmd.Process.Signal(syscall.SIGTERM))
	for range k {
		assert.NoError(t, <-status, "an in-flight request was lost")
	}
	assert.NoError(t, p.Wait(t, 30*time.Second), "exit status after SIGTERM")
	log := p.Logs.String()
	assert.Contains(t, log, "msg=\"shutting down\"")
	assert.Contains(t, log, "msg=stopped")
	_, err = http.Get(p.url + "/healthz")
	assert.Error(t, err, "nothing listens after the shutdown")
}
