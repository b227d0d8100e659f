package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/s3test"
	"github.com/fmixzoo/zoo/internal/testutil"
)

// TestNoSecretInLogsOrFiles runs zoo-serve (run, in process, debug logs)
// with a secret in every place it takes one: ZOO_TOKEN, S3 keys in the
// environment for ZOO_STORE=s3://…, and user:password in ZOO_UPSTREAM for
// a published model converted on first use and pushed to the store. It
// sends requests with the token right, wrong, in a query string, and then
// greps every log line, every file the run wrote in the cache and the
// pushed ONNX for the secrets.
func TestNoSecretInLogsOrFiles(t *testing.T) {
	const token, user, pass = "tok-Secret-31c4a9", "mirror-user-5e2f", "mirror-pa55-d00d"
	s3 := s3test.Start(t)
	s3.MakeBucket(t, "zoo")
	store, err := hub.NewS3Store(hub.S3Config{Endpoint: s3.Endpoint, Region: s3test.Region, Bucket: "zoo", Prefix: "w",
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
	require.NoError(t, err)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		http.ServeFile(w, r, filepath.Join("..", "..", "testdata", "torch", "lenet.pt"))
	}))
	defer up.Close()

	labels := make([]string, 10)
	for i := range labels {
		labels[i] = string(rune('a' + i))
	}
	manifest, err := json.Marshal(map[string]any{"schema": 1, "models": []any{map[string]any{
		"name": "lenet_up", "arch": "lenet", "args": map[string]any{"num_classes": 10, "nc": 1, "width": 8},
		"dataset": "fashion_mnist", "msda": "fmix",
		"input":    map[string]any{"shape": []int{1, 28, 28}, "mean": []float64{0.5}, "std": []float64{0.5}, "resize": 0, "crop": 28, "interpolation": "bilinear", "scale": 255},
		"labels":   labels,
		"accuracy": map[string]any{"source": "none"},
		"weights":  map[string]any{"key": "lenet_up.onnx", "format": "onnx"},
		"upstream": map[string]any{"base": "http://upstream.invalid", "path": "/lenet.pt", "format": "torch-state-dict"},
	}}})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "weights.json"), manifest, 0o644))
	cache := filepath.Join(dir, "cache")
	for k, v := range map[string]string{
		"ZOO_TOKEN": token, "ZOO_MANIFEST": filepath.Join(dir, "weights.json"), "ZOO_STORE": "s3://zoo/w", "ZOO_CACHE": cache,
		"ZOO_S3_ENDPOINT": s3.Endpoint, "AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey,
		"AWS_REGION": "us-east-1", "ZOO_UPSTREAM": strings.Replace(up.URL, "http://", "http://"+user+":"+pass+"@", 1),
		"ZOO_PUSH": "1", "ZOO_LOG_LEVEL": "debug",
	} {
		t.Setenv(k, v)
	}

	logs := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, logs) }()
	var base string
	require.Eventually(t, func() bool {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	}, 30*time.Second, 10*time.Millisecond)

	var img bytes.Buffer
	require.NoError(t, png.Encode(&img, image.NewGray(image.Rect(0, 0, 28, 28))))
	send := func(url, auth string) int {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(img.Bytes()))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	classify := base + "/v1/models/lenet_up/classify"
	assert.Equal(t, 200, send(classify, "Bearer "+token), "converted from the mirror with its password, pushed with the S3 keys")
	assert.Equal(t, 401, send(classify, "Bearer wrong-"+token))
	assert.Equal(t, 401, send(classify+"?token="+token, ""))
	assert.Equal(t, 401, send(classify, "Basic "+token))
	assert.Equal(t, 404, send(base+"/v1/nothing", "bearer "+token))
	cancel()
	require.NoError(t, <-done)

	pushed, _, err := store.Get(context.Background(), "lenet_up.onnx")
	require.NoError(t, err, "the converted ONNX was pushed")
	onnx, err := io.ReadAll(pushed)
	pushed.Close()
	require.NoError(t, err)
	haystacks := testutil.ReadTree(t, cache)
	haystacks["logs"], haystacks["pushed ONNX"] = []byte(logs.String()), onnx
	require.Greater(t, len(haystacks), 3, "the cache holds the ONNX and the record")
	require.Contains(t, logs.String(), "converted upstream checkpoint")
	testutil.AssertNoSecrets(t, haystacks, token, pass, user, s3test.SecretKey)
}
