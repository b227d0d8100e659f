package attack

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/fmixzoo/zoo/internal/figure"
)

// ModelResults are one model's sweep results.
type ModelResults struct {
	Model   string
	Results []Result
}

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"model", "attack", "epsilon", "success_rate", "success", "n", "seconds"}

// WriteCSV writes one row per model, attack and ε.
func WriteCSV(w io.Writer, all []ModelResults) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, m := range all {
		for _, r := range m.Results {
			cw.Write([]string{m.Model, r.Attack, g(r.Epsilon), g(r.Rate()), strconv.Itoa(r.Success),
				strconv.Itoa(r.N), strconv.FormatFloat(r.Seconds, 'f', 3, 64)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("attack: write csv: %w", err)
	}
	return nil
}

// zeroTicks labels a log axis whose ε = 0 points sit at zero (half the
// smallest positive ε): "0" there, then the powers of ten.
type zeroTicks struct{ zero float64 }

func (z zeroTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := []plot.Tick{{Value: z.zero, Label: "0"}}
	for _, t := range (plot.LogTicks{Prec: -1}).Ticks(lo, hi) {
		if t.Value > z.zero*1.5 {
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// WritePNG plots the success rate against ε: one panel per attack, one line
// per model. ε is on a log axis when the positive ε span more than a
// decade, with ε = 0 drawn at half the smallest positive ε and labelled 0.
func WritePNG(path string, all []ModelResults) error {
	var attacks []string
	var eps []float64
	for _, m := range all {
		for _, r := range m.Results {
			if !slices.Contains(attacks, r.Attack) {
				attacks = append(attacks, r.Attack)
			}
			if r.Epsilon > 0 {
				eps = append(eps, r.Epsilon)
			}
		}
	}
	if len(attacks) == 0 {
		return fmt.Errorf("attack: plot: no results")
	}
	logX := len(eps) > 0 && slices.Max(eps) > 10*slices.Min(eps)
	zero := 0.0
	if logX {
		zero = slices.Min(eps) / 2
	}
	panels := make([]*plot.Plot, len(attacks))
	for i, a := range attacks {
		p := plot.New()
		p.Title.Text = a
		p.X.Label.Text = "ε (L∞, pixels in [0, 1])"
		p.Y.Label.Text = "success rate"
		p.Y.Min, p.Y.Max = 0, 1
		if logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = zeroTicks{zero: zero}
		}
		p.Legend.Top, p.Legend.Left = true, true // low ε, low rates: the empty corner
		var lines []any
		for _, m := range all {
			var pts plotter.XYs
			for _, r := range m.Results {
				if r.Attack != a {
					continue
				}
				x := r.Epsilon
				if logX && x == 0 {
					x = zero
				}
				pts = append(pts, plotter.XY{X: x, Y: r.Rate()})
			}
			slices.SortFunc(pts, func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
			lines = append(lines, m.Model, pts)
		}
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return fmt.Errorf("attack: plot %s: %w", a, err)
		}
		panels[i] = p
	}
	if err := figure.WritePNG(path, min(3, len(attacks)), 4.5*vg.Inch, 3.6*vg.Inch, panels...); err != nil {
		return fmt.Errorf("attack: plot: %w", err)
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b || math.IsNaN(a):
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxCSVRows bounds what ReadCSV accepts.
const maxCSVRows = 1 << 20

// ReadCSV reads what WriteCSV wrote, one ModelResults per model in the order
// they first appear. Malformed rows are errors naming the line.
func ReadCSV(r io.Reader) ([]ModelResults, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(CSVHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("attack: read csv: %w", err)
	}
	if !slices.Equal(head, CSVHeader) {
		return nil, fmt.Errorf("attack: read csv: header %q, want %q", head, CSVHeader)
	}
	var out []ModelResults
	index := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("attack: read csv: %w", err)
		}
		if line > maxCSVRows {
			return nil, fmt.Errorf("attack: read csv: more than %d rows", maxCSVRows)
		}
		eps, e1 := strconv.ParseFloat(rec[2], 64)
		succ, e2 := strconv.Atoi(rec[4])
		n, e3 := strconv.Atoi(rec[5])
		sec, e4 := strconv.ParseFloat(rec[6], 64)
		if err := errors.Join(e1, e2, e3, e4); err != nil || rec[0] == "" || !slices.Contains(AllAttacks, rec[1]) ||
			n < 1 || succ < 0 || succ > n || !(eps >= 0) {
			return nil, fmt.Errorf("attack: read csv: line %d (%q) is not model, known attack, ε ≥ 0, rate, 0 ≤ success ≤ n, n ≥ 1, seconds", line, rec)
		}
		i, ok := index[rec[0]]
		if !ok {
			i = len(out)
			index[rec[0]] = i
			out = append(out, ModelResults{Model: rec[0]})
		}
		out[i].Results = append(out[i].Results, Result{Attack: rec[1], Epsilon: eps, Success: succ, N: n, Seconds: sec})
	}
}

// Merge returns old with add's results in it: a result of add replaces the
// one of the same model, attack and ε, or joins its model (appended after the
// models of old when new); every other result of old stays. A long sweep can
// so run one model, one attack or a few ε at a time (zoo-train robustness
// --append). A merged model's results are ordered by attack (AllAttacks) and
// ε; the inputs are left alone.
func Merge(old, add []ModelResults) []ModelResults {
	out := make([]ModelResults, len(old))
	for i, m := range old {
		out[i] = ModelResults{Model: m.Model, Results: slices.Clone(m.Results)}
	}
	for _, a := range add {
		i := slices.IndexFunc(out, func(m ModelResults) bool { return m.Model == a.Model })
		if i < 0 {
			out = append(out, ModelResults{Model: a.Model})
			i = len(out) - 1
		}
		m := &out[i]
		for _, r := range a.Results {
			j := slices.IndexFunc(m.Results, func(o Result) bool { return o.Attack == r.Attack && o.Epsilon == r.Epsilon })
			if j < 0 {
				m.Results = append(m.Results, r)
			} else {
				m.Results[j] = r
			}
		}
		slices.SortStableFunc(m.Results, func(x, y Result) int {
			if c := cmp.Compare(slices.Index(AllAttacks, x.Attack), slices.Index(AllAttacks, y.Attack)); c != 0 {
				return c
			}
			return cmp.Compare(x.Epsilon, y.Epsilon)
		})
	}
	return out
}
