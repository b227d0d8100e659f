package demotest

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/server/zootest"
	"github.com/fmixzoo/zoo/internal/testutil"
)

// Session is what a test of the demo page sets up: the first Fashion-MNIST
// test image as a PNG to upload, a fresh browser profile, the screenshot's
// path, and a context bounding the browser's run (90 s).
type Session struct {
	Ctx     context.Context
	Image   string      // the PNG to upload
	Pixels  *image.Gray // its pixels
	Profile string      // the browser's profile directory
	Shot    string      // where the screenshot goes
}

// NewSession skips the test in -short mode, stops it (testutil.Need)
// without Chromium or the Fashion-MNIST test set, and prepares a Session
// in a temporary directory whose screenshot is named shot.
func NewSession(t testing.TB, shot string) Session {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	_, err := Chromium()
	testutil.Need(t, err)
	testutil.NeedFile(t, zootest.FashionDir)
	imgs, _, err := zootest.FashionTest(1)
	require.NoError(t, err)
	dir := t.TempDir()
	s := Session{Image: filepath.Join(dir, "fashion0.png"), Pixels: imgs[0], Profile: filepath.Join(dir, "profile"), Shot: filepath.Join(dir, shot)}
	require.NoError(t, os.WriteFile(s.Image, zootest.PNG(imgs[0]), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	s.Ctx = ctx
	return s
}

// Run is Run on the demo page at url with the session's image.
func (s Session) Run(url string) (Result, error) { return Run(s.Ctx, url, s.Image, s.Profile, s.Shot) }

// Explain is Explain on the demo page at url with the session's image.
func (s Session) Explain(url string) (Overlay, error) {
	return Explain(s.Ctx, url, s.Image, s.Profile, s.Shot)
}
