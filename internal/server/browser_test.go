package server

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium returns the Chromium binary, skipping the test outside CI when
// there is none and failing it under CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("no chromium (run scripts/install-test-deps.sh)")
	}
	t.Fatal("no chromium under CI")
	return ""
}

// DemoResult is what the demo page showed.
type demoResult struct {
	Top1, Status string
	Bars         int
	Screenshot   string
}

// runDemo opens the demo page at url in headless Chromium, uploads the image
// at imgPath and reads the result off the page.
func runDemo(t *testing.T, url, imgPath string) demoResult {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 700),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var r demoResult
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS(`#model[data-loaded="true"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{imgPath}),
		chromedp.WaitReady(chromedp.CSS(`#result[data-top1]`)),
	)
	require.NoError(t, err, "demo page in Chromium")
	r.Top1, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#predictions li:first-child .label`)))
	require.NoError(t, err)
	r.Status, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#status`)))
	require.NoError(t, err)
	r.Bars, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#predictions li").length`))
	require.NoError(t, err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	r.Screenshot = filepath.Join(t.TempDir(), "demo.png")
	require.NoError(t, os.WriteFile(r.Screenshot, shot, 0o644))
	if keep := os.Getenv("ZOO_KEEP_SCREENSHOT"); keep != "" { // a copy that outlives the test
		require.NoError(t, os.WriteFile(keep, shot, 0o644))
	}
	t.Logf("demo page screenshot: %s (top-1 %q, %s)", r.Screenshot, r.Top1, r.Status)
	return r
}

// TestDemoPageInChromium drives the demo page with a real Fashion-MNIST
// image; the fake model's top-1 for that image must show first.
func TestDemoPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	img := fashionImages(t, 1)[0]
	imgPath := filepath.Join(t.TempDir(), "fashion0.png")
	f, err := os.Create(imgPath)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	want := topK(fakeLogits(fakePixels(img)), fakeLabels, 1)[0].Label

	_, ts := newTestServer(t, newFakeCatalog("fake_fashion"), Config{})
	r := runDemo(t, ts.URL+"/", imgPath)
	assert.Equal(t, want, r.Top1)
	assert.Equal(t, 3, r.Bars, "top-5 capped at the fake's 3 classes")
	assert.Contains(t, r.Status, "fake_fashion")
	st, err := os.Stat(r.Screenshot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}
