package train

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/fmixzoo/zoo/internal/figure"
)

// EpochStats are the measurements of one training epoch.
type EpochStats struct {
	Epoch int     `json:"epoch"` // 0-based
	LR    float64 `json:"lr"`    // learning rate at the epoch's end
	// TrainLoss is the mean training loss against the (mixed) soft targets.
	TrainLoss float64 `json:"train_loss"`
	// TestTop1 and TestTop5 are percentages on the test set (eval mode).
	TestTop1     float64 `json:"test_top1"`
	TestTop5     float64 `json:"test_top5"`
	TestLoss     float64 `json:"test_loss"`
	Steps        int     `json:"steps"`
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
}

// WriteCurvesCSV writes one row per epoch.
func WriteCurvesCSV(path string, hist []EpochStats) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("train: write curves: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"epoch", "lr", "train_loss", "test_loss", "test_top1", "test_top5", "steps", "images", "seconds", "images_per_sec"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, s := range hist {
		w.Write([]string{strconv.Itoa(s.Epoch + 1), g(s.LR), g(s.TrainLoss), g(s.TestLoss),
			g(s.TestTop1), g(s.TestTop5), strconv.Itoa(s.Steps), strconv.Itoa(s.Images), g(s.Seconds), g(s.ImagesPerSec)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("train: write curves %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("train: write curves %s: %w", path, err)
	}
	return nil
}

// WriteCurvesPNG plots loss (left) and accuracy (right) against epochs.
func WriteCurvesPNG(path, title string, hist []EpochStats) error {
	loss, acc := plot.New(), plot.New()
	loss.Title.Text, acc.Title.Text = title+": loss", title+": accuracy (%)"
	loss.X.Label.Text, acc.X.Label.Text = "epoch", "epoch"
	xy := func(f func(EpochStats) float64) plotter.XYs {
		pts := make(plotter.XYs, len(hist))
		for i, s := range hist {
			pts[i].X, pts[i].Y = float64(s.Epoch+1), f(s)
		}
		return pts
	}
	if err := plotutil.AddLinePoints(loss,
		"train", xy(func(s EpochStats) float64 { return s.TrainLoss }),
		"test", xy(func(s EpochStats) float64 { return s.TestLoss })); err != nil {
		return fmt.Errorf("train: plot curves: %w", err)
	}
	if err := plotutil.AddLinePoints(acc,
		"test top-5", xy(func(s EpochStats) float64 { return s.TestTop5 }),
		"test top-1", xy(func(s EpochStats) float64 { return s.TestTop1 })); err != nil {
		return fmt.Errorf("train: plot curves: %w", err)
	}
	if err := figure.WritePNG(path, 2, 6*vg.Inch, 4.5*vg.Inch, loss, acc); err != nil {
		return fmt.Errorf("train: write curves: %w", err)
	}
	return nil
}
