package train

import (
	"fmt"
	"io"
	"time"

	"github.com/fmixzoo/zoo/internal/progress"
)

// evalMeter draws an evaluation's progress: on a terminal a bar redrawn in
// place (images done, running top-1 and top-5, images/s, ETA); elsewhere
// the same line every 30 seconds. A nil *evalMeter draws nothing.
type evalMeter struct {
	progress.Line
	name  string
	start time.Time
}

func newEvalMeter(w io.Writer, name string) *evalMeter {
	if w == nil {
		return nil
	}
	return &evalMeter{Line: progress.New(w), name: name, start: time.Now()}
}

func (m *evalMeter) update(done, total, hit1, hit5 int) {
	if m == nil {
		return
	}
	now := time.Now()
	if done == total {
		if !m.Terminal {
			return // the table reports the end
		}
	} else if !m.Due(now) {
		return
	}
	el := now.Sub(m.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	eta := time.Duration(float64(total-done)/max(rate, 1e-9)) * time.Second
	m.Draw(fmt.Sprintf("%s %s %d/%d  top-1 %.2f  top-5 %.2f  %.0f img/s  ETA %s",
		m.name, progress.Bar(float64(done), float64(total)), done, total,
		100*float64(hit1)/float64(max(done, 1)), 100*float64(hit5)/float64(max(done, 1)),
		rate, eta.Round(time.Second)))
	if done == total {
		m.Keep()
	}
}
