package server

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/server/demotest"
	"github.com/fmixzoo/zoo/internal/topk"
)

// demoSession serves the fake catalogue ("fake_fashion") for a demotest
// session; it returns the page's URL and the fake model's top-1 label for
// the session's image. (cmd/zoo-serve drives the same page against the
// real binary and a real model.)
func demoSession(t *testing.T, shot string) (s demotest.Session, url, top1 string) {
	t.Helper()
	s = demotest.NewSession(t, shot)
	_, ts := newTestServer(t, newFakeCatalog("fake_fashion"), Config{})
	return s, ts.URL + "/", topk.TopK(fakeLogits(fakePixels(s.Pixels)), fakeLabels, 1)[0].Label
}

// TestDemoPageInChromium drives the demo page with a real Fashion-MNIST
// image; the fake model's top-1 for that image must show first.
func TestDemoPageInChromium(t *testing.T) {
	s, url, top1 := demoSession(t, "demo.png")
	r, err := s.Run(url)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (top-1 %q, %s)", s.Shot, r.Top1, r.Status)
	assert.Equal(t, top1, r.Top1)
	assert.Equal(t, 3, r.Bars, "top-5 capped at the fake's 3 classes")
	assert.Contains(t, r.Status, "fake_fashion")
	st, err := os.Stat(s.Shot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}

// TestDemoOverlayInChromium ticks the demo page's "Why?" toggle and checks
// that the Grad-CAM overlay appears beside the top-5 and is not blank: the
// fake model's map of a real Fashion-MNIST image (explain_test.go) varies,
// so the overlay has several colours and spread.
func TestDemoOverlayInChromium(t *testing.T) {
	s, url, top1 := demoSession(t, "demo-why.png")
	o, err := s.Explain(url)
	require.NoError(t, err)
	t.Logf("demo page screenshot: %s (overlay %+v)", s.Shot, o)
	assert.Equal(t, 4, o.Width, "the fake's 4×4 input")
	assert.Equal(t, 4, o.Height)
	assert.Greater(t, o.Distinct, 2, "not a blank overlay")
	assert.Greater(t, o.StdDev, 5.0, "pixels vary")
	assert.Contains(t, o.Caption, top1)
}
