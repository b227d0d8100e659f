package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnreachableStoreIs503AndRemembered: a model whose store answers 503
// (or cannot be reached) gets a 503 with the reason and Retry-After, not
// a 500 "internal error"; the failure is remembered for a while, so the
// requests in the meantime do not each go to the network again.
func TestUnreachableStoreIs503AndRemembered(t *testing.T) {
	var hits atomic.Int64
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer store.Close()
	m, err := hub.DefaultManifest()
	require.NoError(t, err)
	cat := &hubCatalog{m: m, failTTL: 300 * time.Millisecond, client: &hub.Client{Manifest: m, StoreURI: store.URL + "/zoo",
		CacheDir: t.TempDir()}, opts: []hub.Option{hub.WithRetries(-1, 0)}}
	s, err := server.New(cat, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })

	var img bytes.Buffer
	require.NoError(t, png.Encode(&img, image.NewGray(image.Rect(0, 0, 28, 28))))
	classify := func() (int, string, string) {
		resp, err := http.Post(ts.URL+"/v1/models/lenet_fashion_fmix/classify", "image/png", bytes.NewReader(img.Bytes()))
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct{ Error string }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp.StatusCode, body.Error, resp.Header.Get("Retry-After")
	}
	status, msg, retry := classify()
	require.Equal(t, http.StatusServiceUnavailable, status, msg)
	assert.Contains(t, msg, "cannot be fetched")
	assert.Contains(t, msg, "503")
	assert.Equal(t, "1", retry)
	require.Equal(t, int64(1), hits.Load())

	for range 5 {
		status, msg, _ = classify()
		assert.Equal(t, http.StatusServiceUnavailable, status)
		assert.Contains(t, msg, "remembered")
	}
	assert.Equal(t, int64(1), hits.Load(), "remembered, not retried per request")

	time.Sleep(350 * time.Millisecond)
	status, _, _ = classify()
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, int64(2), hits.Load(), "tried again once the failure expired")
}
