package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// evalMeter draws an evaluation's progress: on a terminal a bar redrawn in
// place (images done, running top-1 and top-5, images/s, ETA); elsewhere
// the same line every 30 seconds. A nil *evalMeter draws nothing.
type evalMeter struct {
	w        io.Writer
	terminal bool
	name     string
	start    time.Time
	last     time.Time
}

func newEvalMeter(w io.Writer, name string) *evalMeter {
	if w == nil {
		return nil
	}
	m := &evalMeter{w: w, name: name, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		m.terminal = true
	}
	return m
}

func (m *evalMeter) update(done, total, hit1, hit5 int) {
	if m == nil {
		return
	}
	now := time.Now()
	every := 100 * time.Millisecond
	if !m.terminal {
		every = 30 * time.Second
		if m.last.IsZero() {
			m.last = now
		}
	}
	if done < total && now.Sub(m.last) < every {
		return
	}
	if !m.terminal && done == total {
		return // the table reports the end
	}
	m.last = now
	el := now.Sub(m.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	eta := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second
	const width = 24
	fill := width * done / max(total, 1)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	line := fmt.Sprintf("%s [%s] %d/%d  top-1 %.2f  top-5 %.2f  %.0f img/s  ETA %s",
		m.name, bar, done, total, 100*float64(hit1)/float64(max(done, 1)), 100*float64(hit5)/float64(max(done, 1)),
		rate, eta.Round(time.Second))
	if m.terminal {
		fmt.Fprintf(m.w, "\r\033[K%s", line)
		if done == total {
			fmt.Fprintln(m.w)
		}
		return
	}
	fmt.Fprintln(m.w, line)
}
