package hub

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progressBar draws "name  12.0/45.0 MiB  27%  8.1 MiB/s  ETA 4s" on one
// terminal line, at most five times a second. A nil bar does nothing.
type progressBar struct {
	w     io.Writer
	name  string
	total int64
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, name string, total int64) *progressBar {
	now := time.Now()
	return &progressBar{w: w, name: name, total: total, start: now, last: now}
}

func (b *progressBar) update(n int64) {
	if b == nil {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 200*time.Millisecond {
		return
	}
	b.last = now
	b.draw(n, now)
}

func (b *progressBar) finish(n int64) {
	if b == nil {
		return
	}
	b.draw(n, time.Now())
	fmt.Fprintln(b.w)
}

func (b *progressBar) draw(n int64, now time.Time) {
	const mib = 1 << 20
	el := now.Sub(b.start).Seconds()
	speed := 0.0
	if el > 0 {
		speed = float64(n) / el
	}
	pct, eta := 0.0, "?"
	if b.total > 0 {
		pct = 100 * float64(n) / float64(b.total)
		if speed > 0 {
			eta = time.Duration(float64(b.total-n) / speed * float64(time.Second)).Round(time.Second).String()
		}
	}
	fmt.Fprintf(b.w, "\r%s  %.1f/%.1f MiB  %3.0f%%  %.1f MiB/s  ETA %s\x1b[K",
		b.name, float64(n)/mib, float64(b.total)/mib, pct, speed/mib, eta)
}

// stderrIfTerminal is os.Stderr when it is a terminal, else nil (quiet).
func stderrIfTerminal() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}
