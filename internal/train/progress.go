package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Progress reports training progress: on a terminal a bar redrawn in place
// (loss, accuracy, img/s, ETA); elsewhere the same line every 30 seconds.
// Each epoch ends with a summary line.
type Progress struct {
	w        io.Writer
	terminal bool
	epoch    int
	epochs   int
	total    int // batches this epoch
	start    time.Time
	last     time.Time
	acc      float64 // test top-1 of the last finished epoch
}

// NewProgress writes to w, drawing a bar when w is a terminal.
func NewProgress(w io.Writer) *Progress {
	p := &Progress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	}
	return p
}

// StartEpoch begins an epoch of total batches.
func (p *Progress) StartEpoch(epoch, epochs, total int) {
	p.epoch, p.epochs, p.total = epoch, epochs, total
	p.start = time.Now()
	p.last = time.Time{}
}

// Update reports that done batches (images in all) are finished with the
// running mean loss. The bar shows it beside the last epoch's test top-1. It
// redraws at most 10 times a second, and only on a terminal.
func (p *Progress) Update(done, images int, loss float64) {
	if p.w == nil {
		return
	}
	now := time.Now()
	every := 100 * time.Millisecond
	if !p.terminal {
		every = 30 * time.Second // a log file gets a line now and then
		if p.last.IsZero() {
			p.last = now
		}
	}
	if now.Sub(p.last) < every || (!p.terminal && done == p.total) {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	rate := float64(images) / max(el, 1e-9)
	eta := time.Duration(0)
	if done > 0 {
		eta = time.Duration(el / float64(done) * float64(p.total-done) * float64(time.Second))
	}
	const width = 24
	fill := width * done / max(p.total, 1)
	lead, tail := "\r", " "
	if !p.terminal {
		lead, tail = "", "\n"
	}
	fmt.Fprintf(p.w, lead+"epoch %d/%d [%s%s] %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %s"+tail,
		p.epoch+1, p.epochs, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		done, p.total, loss, p.acc, rate, eta.Round(time.Second))
}

// EndEpoch prints the epoch's summary line.
func (p *Progress) EndEpoch(s EpochStats) {
	p.acc = s.TestTop1
	if p.w == nil {
		return
	}
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "epoch %d/%d lr %.4g loss %.4f test top-1 %.2f%% top-5 %.2f%% %.0f img/s %s\n",
		s.Epoch+1, p.epochs, s.LR, s.TrainLoss, s.TestTop1, s.TestTop5,
		s.ImagesPerSec, time.Duration(s.Seconds*float64(time.Second)).Round(time.Second))
}
