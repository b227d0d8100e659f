package server

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/internal/server/demotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/topk"
)

// TestDemoPageInChromium drives the demo page with a real Fashion-MNIST
// image; the fake model's top-1 for that image must show first.
// (cmd/zoo-serve runs the same against the real binary and a real model.)
func TestDemoPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	if _, err := demotest.Chromium(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	img := fashionImages(t, 1)[0]
	dir := t.TempDir()
	imgPath := filepath.Join(dir, "fashion0.png")
	f, err := os.Create(imgPath)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	want := topk.TopK(fakeLogits(fakePixels(img)), fakeLabels, 1)[0].Label

	_, ts := newTestServer(t, newFakeCatalog("fake_fashion"), Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	shot := filepath.Join(dir, "demo.png")
	r, err := demotest.Run(ctx, ts.URL+"/", imgPath, filepath.Join(dir, "profile"), shot)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (top-1 %q, %s)", shot, r.Top1, r.Status)
	assert.Equal(t, want, r.Top1)
	assert.Equal(t, 3, r.Bars, "top-5 capped at the fake's 3 classes")
	assert.Contains(t, r.Status, "fake_fashion")
	st, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}
