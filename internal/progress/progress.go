// Package progress draws a long job's progress on one line: on a terminal
// the line is redrawn in place at most ten times a second; elsewhere (a log
// file) it is written out whole, the first time 30 seconds after the job's
// first report and then every 30 seconds. zoo-train's training epochs,
// evaluations and robustness sweeps draw theirs with it.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// Line is one progress line written to W.
type Line struct {
	W io.Writer
	// Terminal redraws the line in place; New sets it when W is a
	// terminal.
	Terminal bool
	last     time.Time
	drawn    bool
}

// New returns a Line on w that redraws in place when w is a terminal.
func New(w io.Writer) Line {
	f, ok := w.(*os.File)
	return Line{W: w, Terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// Due reports whether a line is due at now (a tenth of a second after the
// last one on a terminal, 30 seconds elsewhere) and, when it is, counts
// now as the time of the last one.
func (l *Line) Due(now time.Time) bool {
	every := 100 * time.Millisecond
	if !l.Terminal {
		every = 30 * time.Second
		if l.last.IsZero() {
			l.last = now
		}
	}
	if now.Sub(l.last) < every {
		return false
	}
	l.last = now
	return true
}

// Restart makes the next line due as if the Line were new (a new epoch).
func (l *Line) Restart() { l.last = time.Time{} }

// Draw writes s: over the line drawn before on a terminal, as a line of
// its own elsewhere.
func (l *Line) Draw(s string) {
	if l.Terminal {
		fmt.Fprintf(l.W, "\r\033[K%s", s)
		l.drawn = true
		return
	}
	fmt.Fprintln(l.W, s)
}

// Clear erases the line drawn last on a terminal.
func (l *Line) Clear() {
	if l.Terminal && l.drawn {
		fmt.Fprint(l.W, "\r\033[K")
		l.drawn = false
	}
}

// Keep ends the line drawn last on a terminal, so that it stays.
func (l *Line) Keep() {
	if l.Terminal && l.drawn {
		fmt.Fprintln(l.W)
		l.drawn = false
	}
}

// barWidth is the cells of a Bar.
const barWidth = 24

// Bar is a 24-cell bar, "=" for the part of total done: "[=====     ]".
func Bar(done, total float64) string {
	fill := min(barWidth, max(0, int(barWidth*done/max(total, 1))))
	return "[" + strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill) + "]"
}
