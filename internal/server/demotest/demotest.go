// Package demotest drives zoo-serve's demo page in headless Chromium, for
// the tests of internal/server and cmd/zoo-serve.
package demotest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the Chromium binary (Debian's chromium, as
// scripts/install-test-deps.sh installs).
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("demotest: no chromium on PATH (run scripts/install-test-deps.sh)")
}

// Result is what the demo page showed after classifying an image.
type Result struct {
	Top1   string // label of the first bar
	Status string // the status line: model and elapsed time
	Bars   int    // number of prediction bars
}

// Run opens the demo page at url in a fresh headless Chromium profile under
// profileDir, uploads the image at imgPath, waits for the predictions, reads
// them off the page and saves a PNG screenshot of the whole page at
// shotPath. ctx bounds the whole run.
func Run(ctx context.Context, url, imgPath, profileDir, shotPath string) (Result, error) {
	bctx, cancel, err := browser(ctx, profileDir)
	if err != nil {
		return Result{}, err
	}
	defer cancel()
	var r Result
	if err := chromedp.Do(bctx,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS(`#model[data-loaded="true"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{imgPath}),
		chromedp.WaitReady(chromedp.CSS(`#result[data-top1]`)),
	); err != nil {
		return r, fmt.Errorf("demotest: drive the demo page: %w", err)
	}
	if r.Top1, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#predictions li:first-child .label`))); err != nil {
		return r, fmt.Errorf("demotest: read top-1: %w", err)
	}
	if r.Status, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#status`))); err != nil {
		return r, fmt.Errorf("demotest: read status: %w", err)
	}
	if r.Bars, err = chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#predictions li").length`)); err != nil {
		return r, fmt.Errorf("demotest: count bars: %w", err)
	}
	return r, screenshot(bctx, shotPath)
}

// browser starts a headless Chromium with a fresh profile under
// profileDir and returns the context that drives it; cancel stops it.
func browser(ctx context.Context, profileDir string) (bctx context.Context, cancel context.CancelFunc, err error) {
	bin, err := Chromium()
	if err != nil {
		return nil, nil, err
	}
	actx, stopAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profileDir),
		chromedp.WindowSize(900, 700),
	)
	bctx, stopBrowser := chromedp.NewContext(actx)
	return bctx, func() { stopBrowser(); stopAlloc() }, nil
}

// screenshot saves a PNG of the whole page at path.
func screenshot(bctx context.Context, path string) error {
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		return fmt.Errorf("demotest: screenshot: %w", err)
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		return fmt.Errorf("demotest: %w", err)
	}
	return nil
}

// Overlay describes the Grad-CAM overlay the demo page showed.
type Overlay struct {
	Width, Height int     // the overlay image's natural size
	Distinct      int     // distinct RGB colours among its pixels
	StdDev        float64 // standard deviation of its pixels' luminance (0–255)
	Caption       string
}

// Explain opens the demo page like Run, ticks "Why?", uploads the image at
// imgPath, waits for the Grad-CAM overlay beside the predictions and
// measures its pixels (a blank or uniform overlay has one distinct colour
// and no spread). It saves a screenshot at shotPath.
func Explain(ctx context.Context, url, imgPath, profileDir, shotPath string) (Overlay, error) {
	bctx, cancel, err := browser(ctx, profileDir)
	if err != nil {
		return Overlay{}, err
	}
	defer cancel()
	var o Overlay
	if err := chromedp.Do(bctx,
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS(`#model[data-loaded="true"]`)),
		chromedp.Click(chromedp.CSS(`#why`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{imgPath}),
		chromedp.WaitReady(chromedp.CSS(`#overlay[data-loaded="true"]`)),
	); err != nil {
		return o, fmt.Errorf("demotest: drive the demo page's Why? toggle: %w", err)
	}
	const measure = `(() => {
		const img = document.getElementById("overlay");
		const c = document.createElement("canvas");
		c.width = img.naturalWidth; c.height = img.naturalHeight;
		const g = c.getContext("2d");
		g.drawImage(img, 0, 0);
		const d = g.getImageData(0, 0, c.width, c.height).data;
		const seen = new Set();
		let n = 0, sum = 0, sq = 0;
		for (let i = 0; i < d.length; i += 4) {
			seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
			const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
			n++; sum += y; sq += y * y;
		}
		const mean = sum / n;
		return {width: c.width, height: c.height, distinct: seen.size, std: Math.sqrt(Math.max(0, sq / n - mean * mean))};
	})()`
	m, err := chromedp.Run(bctx, chromedp.Evaluate[overlayStats](measure))
	if err != nil {
		return o, fmt.Errorf("demotest: measure the overlay: %w", err)
	}
	o = Overlay{Width: m.Width, Height: m.Height, Distinct: m.Distinct, StdDev: m.Std}
	if o.Caption, err = chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#overlay-caption`))); err != nil {
		return o, fmt.Errorf("demotest: read the overlay caption: %w", err)
	}
	return o, screenshot(bctx, shotPath)
}

type overlayStats struct {
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Distinct int     `json:"distinct"`
	Std      float64 `json:"std"`
}
