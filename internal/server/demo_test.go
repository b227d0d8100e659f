package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/server/demotest"
	"github.com/fmixzoo/zoo/internal/server/zootest"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/internal/topk"
)

// demoRun is one run of the demo page in Chromium against the fake
// catalogue ("fake_fashion") with the first Fashion-MNIST test image.
// (cmd/zoo-serve drives the same page against the real binary and a real
// model.)
type demoRun struct {
	ctx                     context.Context // bounds the browser's run
	url, img, profile, shot string          // the page, the image to upload, and where the browser writes
	top1                    string          // the fake model's top-1 label for the image
}

func newDemoRun(t *testing.T, shot string) demoRun {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	_, err := demotest.Chromium()
	testutil.Need(t, err)
	testutil.NeedFile(t, zootest.FashionDir)
	imgs, _, err := zootest.FashionTest(1)
	require.NoError(t, err)
	dir := t.TempDir()
	d := demoRun{img: filepath.Join(dir, "fashion0.png"), profile: filepath.Join(dir, "profile"), shot: filepath.Join(dir, shot)}
	require.NoError(t, os.WriteFile(d.img, zootest.PNG(imgs[0]), 0o644))
	d.top1 = topk.TopK(fakeLogits(fakePixels(imgs[0])), fakeLabels, 1)[0].Label
	_, ts := newTestServer(t, newFakeCatalog("fake_fashion"), Config{})
	d.url = ts.URL + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	d.ctx = ctx
	return d
}

// TestDemoPageInChromium drives the demo page with a real Fashion-MNIST
// image; the fake model's top-1 for that image must show first.
func TestDemoPageInChromium(t *testing.T) {
	d := newDemoRun(t, "demo.png")
	r, err := demotest.Run(d.ctx, d.url, d.img, d.profile, d.shot)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (top-1 %q, %s)", d.shot, r.Top1, r.Status)
	assert.Equal(t, d.top1, r.Top1)
	assert.Equal(t, 3, r.Bars, "top-5 capped at the fake's 3 classes")
	assert.Contains(t, r.Status, "fake_fashion")
	st, err := os.Stat(d.shot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}

// TestDemoOverlayInChromium ticks the demo page's "Why?" toggle and checks
// that the Grad-CAM overlay appears beside the top-5 and is not blank: the
// fake model's map of a real Fashion-MNIST image (explain_test.go) varies,
// so the overlay has several colours and spread.
func TestDemoOverlayInChromium(t *testing.T) {
	d := newDemoRun(t, "demo-why.png")
	o, err := demotest.Explain(d.ctx, d.url, d.img, d.profile, d.shot)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (overlay %+v)", d.shot, o)
	assert.Equal(t, 4, o.Width, "the fake's 4×4 input")
	assert.Equal(t, 4, o.Height)
	assert.Greater(t, o.Distinct, 2, "not a blank overlay")
	assert.Greater(t, o.StdDev, 5.0, "pixels vary")
	assert.Contains(t, o.Caption, d.top1)
}
