package train

import (
	"fmt"
	"io"
	"time"

	"github.com/fmixzoo/zoo/internal/progress"
)

// Progress reports training progress: on a terminal a bar redrawn in place
// (loss, accuracy, img/s, ETA); elsewhere the same line every 30 seconds.
// Each epoch ends with a summary line.
type Progress struct {
	line   progress.Line
	epoch  int
	epochs int
	total  int // batches this epoch
	start  time.Time
	acc    float64 // test top-1 of the last finished epoch
}

// NewProgress writes to w, drawing a bar when w is a terminal.
func NewProgress(w io.Writer) *Progress {
	return &Progress{line: progress.New(w)}
}

// StartEpoch begins an epoch of total batches.
func (p *Progress) StartEpoch(epoch, epochs, total int) {
	p.epoch, p.epochs, p.total = epoch, epochs, total
	p.start = time.Now()
	p.line.Restart()
}

// Update reports that done batches (images in all) are finished with the
// running mean loss. The bar shows it beside the last epoch's test top-1. It
// redraws at most 10 times a second, and only on a terminal.
func (p *Progress) Update(done, images int, loss float64) {
	if p.line.W == nil || (!p.line.Terminal && done == p.total) {
		return // a log file gets the epoch's summary line instead
	}
	now := time.Now()
	if !p.line.Due(now) {
		return
	}
	el := now.Sub(p.start).Seconds()
	rate := float64(images) / max(el, 1e-9)
	eta := time.Duration(0)
	if done > 0 {
		eta = time.Duration(el / float64(done) * float64(p.total-done) * float64(time.Second))
	}
	p.line.Draw(fmt.Sprintf("epoch %d/%d %s %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %s",
		p.epoch+1, p.epochs, progress.Bar(float64(done), float64(p.total)),
		done, p.total, loss, p.acc, rate, eta.Round(time.Second)))
}

// EndEpoch prints the epoch's summary line.
func (p *Progress) EndEpoch(s EpochStats) {
	p.acc = s.TestTop1
	if p.line.W == nil {
		return
	}
	p.line.Clear()
	fmt.Fprintf(p.line.W, "epoch %d/%d lr %.4g loss %.4f test top-1 %.2f%% top-5 %.2f%% %.0f img/s %s\n",
		s.Epoch+1, p.epochs, s.LR, s.TrainLoss, s.TestTop1, s.TestTop5,
		s.ImagesPerSec, time.Duration(s.Seconds*float64(time.Second)).Round(time.Second))
}
