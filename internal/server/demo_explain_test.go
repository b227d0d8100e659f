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

// TestDemoOverlayInChromium ticks the demo page's "Why?" toggle and checks
// that the Grad-CAM overlay appears beside the top-5 and is not blank: the
// fake model's map of a real Fashion-MNIST image (explain_test.go) varies,
// so the overlay has several colours and spread.
func TestDemoOverlayInChromium(t *testing.T) {
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
	shot := filepath.Join(dir, "demo-why.png")
	o, err := demotest.Explain(ctx, ts.URL+"/", imgPath, filepath.Join(dir, "profile"), shot)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (overlay %+v)", shot, o)
	assert.Equal(t, 4, o.Width, "the fake's 4×4 input")
	assert.Equal(t, 4, o.Height)
	assert.Greater(t, o.Distinct, 2, "not a blank overlay")
	assert.Greater(t, o.StdDev, 5.0, "pixels vary")
	assert.Contains(t, o.Caption, want)
}
