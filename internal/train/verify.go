package train

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"text/tabwriter"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/zoo"
)

// Verdicts of a verify row.
const (
	VerdictPass    = "pass"
	VerdictFail    = "FAIL"
	VerdictSkipped = "skipped"
	// VerdictMeasured: evaluated, but the entry reports no accuracy to
	// compare with.
	VerdictMeasured = "no reference"
)

// ErrVerifyFailed is returned by Verify when a reported accuracy was not
// reproduced within the tolerance (or an entry failed to evaluate).
var ErrVerifyFailed = errors.New("verify failed")

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Manifest resolves names (nil: hub.DefaultManifest).
	Manifest *hub.Manifest
	// Patterns are names or path.Match wildcards; "all" matches every entry.
	Patterns []string
	// Dataset and DataDir override where each entry's test set is read
	// from (DataDir alone: the entry's dataset from that directory).
	Dataset, DataDir string
	// Tolerance is the largest |measured - reported| top-1 difference, in
	// points, for accuracies from a paper or README. Accuracies this
	// project measured itself must be reproduced exactly.
	Tolerance float64
	// Load are passed to hub.LoadContext (store, cache, offline…).
	Load []hub.Option
	// Limit evaluates only the first N test images (0: all); rows then
	// compare against nothing and say so.
	Limit int
	// Synsets is the ImageNet synset list (see data.ReadSynsets) that maps
	// DataDir's folder-per-synset validation images to class indices; ""
	// looks for one of data.SynsetFileNames beside the images.
	Synsets string
	// Progress, when not nil, gets a progress bar per model (a line every
	// 30 s when it is not a terminal).
	Progress io.Writer
}

// VerifyRow is one entry's outcome.
type VerifyRow struct {
	Name            string
	Top1, Top5      float64
	Reported        *float64 // top-1 from the entry
	ReportedTop5    *float64
	Source          string
	Delta           float64 // Top1 - Reported
	Verdict, Reason string
	Images          int
	ImagesPerSec    float64
	ParamCount      int
	ImgSize         int
	CropPct         float64
	Interpolation   string
}

// Verify evaluates every matching entry on its test set and compares with
// the entry's reported accuracy. It returns the rows and ErrVerifyFailed
// (wrapped) when any row failed.
func Verify(ctx context.Context, o VerifyOptions) ([]VerifyRow, error) {
	m := o.Manifest
	if m == nil {
		var err error
		if m, err = hub.DefaultManifest(); err != nil {
			return nil, err
		}
	}
	var names []string
	seen := map[string]bool{}
	for _, p := range o.Patterns {
		if p == "all" {
			p = "*"
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("train: verify: bad pattern %q: %w", p, err)
		}
		got := m.Names(p)
		if len(got) == 0 {
			return nil, fmt.Errorf("train: verify: %q matches no model: %w", p, hub.ErrUnknownModel)
		}
		for _, n := range got {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sets := map[string]data.Dataset{}
	setErrs := map[string]error{}
	var failed int
	rows := make([]VerifyRow, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		e, err := m.Lookup(name)
		if err != nil {
			return rows, err
		}
		row := verifyOne(ctx, m, e, o, sets, setErrs)
		if row.Verdict == VerdictFail {
			failed++
		}
		rows = append(rows, row)
	}
	if failed > 0 {
		return rows, fmt.Errorf("train: verify: %d of %d models: %w", failed, len(rows), ErrVerifyFailed)
	}
	return rows, nil
}

func verifyOne(ctx context.Context, m *hub.Manifest, e hub.Entry, o VerifyOptions, sets map[string]data.Dataset, setErrs map[string]error) VerifyRow {
	row := VerifyRow{Name: e.Name, Reported: e.Accuracy.Top1, ReportedTop5: e.Accuracy.Top5, Source: e.Accuracy.Source,
		ImgSize: e.Input.Shape[1], Interpolation: e.Input.Interpolation, CropPct: 1}
	if e.Input.Resize > 0 {
		row.CropPct = float64(e.Input.Shape[1]) / float64(e.Input.Resize)
	}
	dsName := e.Dataset
	if o.Dataset != "" {
		dsName = o.Dataset
	}
	ds, err := testSet(dsName, o.DataDir, o.Synsets, sets, setErrs)
	if err != nil {
		row.Verdict, row.Reason = VerdictSkipped, "dataset not present: "+err.Error()
		return row
	}
	if o.Limit > 0 {
		ds = data.Limit(ds, o.Limit)
	}
	if e.Weights.SHA256 == "" && e.Upstream == nil {
		row.Verdict, row.Reason = VerdictSkipped, "no weights published for this entry"
		return row
	}
	model, err := hub.LoadContext(ctx, e.Name, append([]hub.Option{hub.WithManifest(m)}, o.Load...)...)
	if err != nil {
		row.Verdict, row.Reason = VerdictFail, err.Error()
		if errors.Is(err, hub.ErrNotFound) || hub.IsTransient(err) {
			row.Verdict, row.Reason = VerdictSkipped, "weights not present: "+err.Error()
		}
		return row
	}
	ev, err := evaluateModel(ctx, model, ds, newEvalMeter(o.Progress, e.Name))
	if err != nil {
		row.Verdict, row.Reason = VerdictFail, err.Error()
		return row
	}
	row.Top1, row.Top5, row.Images = ev.Top1, ev.Top5, ev.Images
	if ev.Seconds > 0 {
		row.ImagesPerSec = float64(ev.Images) / ev.Seconds
	}
	if net, err := zoo.Build(e.Arch, e.Args); err == nil {
		for _, p := range net.Params() {
			row.ParamCount += len(p.Value)
		}
	}
	switch {
	case e.Accuracy.Top1 == nil:
		row.Verdict, row.Reason = VerdictMeasured, "the entry reports no accuracy"
	case o.Limit > 0:
		row.Delta = ev.Top1 - *e.Accuracy.Top1
		row.Verdict, row.Reason = VerdictMeasured, fmt.Sprintf("only %d test images evaluated", ev.Images)
	default:
		row.Delta = ev.Top1 - *e.Accuracy.Top1
		row.Verdict = VerdictPass
		if e.Accuracy.Source == "measured" {
			// Measured here, through the same code path: must be identical.
			if ev.Top1 != *e.Accuracy.Top1 || (e.Accuracy.Top5 != nil && ev.Top5 != *e.Accuracy.Top5) {
				row.Verdict, row.Reason = VerdictFail, "an accuracy this project measured must be reproduced exactly"
			}
		} else if math.Abs(row.Delta) > o.Tolerance {
			row.Verdict, row.Reason = VerdictFail, fmt.Sprintf("|delta| %.2f > tolerance %.2f", math.Abs(row.Delta), o.Tolerance)
		}
	}
	return row
}

func testSet(name, dir, synsets string, sets map[string]data.Dataset, errs map[string]error) (data.Dataset, error) {
	canon, err := data.CanonicalName(name)
	if err != nil {
		return nil, err
	}
	if ds, ok := sets[canon]; ok {
		return ds, nil
	}
	if err, ok := errs[canon]; ok {
		return nil, err
	}
	var ds data.Dataset
	if canon == data.ImageNet {
		// Folder per synset, labels by the synset list (torchvision's
		// order), never by the folders present.
		ds, err = data.OpenImageNetVal(dir, synsets)
	} else {
		ds, err = data.Open(canon, dir, data.TestSplit)
	}
	if err != nil {
		errs[canon] = err
		return nil, err
	}
	sets[canon] = ds
	return ds, nil
}

// WriteVerifyTable prints rows as an aligned table.
func WriteVerifyTable(w io.Writer, rows []VerifyRow) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\ttop-1\ttop-5\treported\tdelta\timages\timg/s\tverdict")
	for _, r := range rows {
		top1, top5, rep, delta, imgs, rate := "-", "-", "-", "-", "-", "-"
		if r.Images > 0 {
			top1, top5 = fmt.Sprintf("%.2f", r.Top1), fmt.Sprintf("%.2f", r.Top5)
			imgs, rate = fmt.Sprint(r.Images), fmt.Sprintf("%.0f", r.ImagesPerSec)
		}
		if r.Reported != nil {
			rep = fmt.Sprintf("%.2f (%s)", *r.Reported, r.Source)
			if r.Images > 0 {
				delta = fmt.Sprintf("%+.2f", r.Delta)
			}
		}
		verdict := r.Verdict
		if r.Reason != "" {
			verdict += ": " + r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, top1, top5, rep, delta, imgs, rate, verdict)
	}
	return tw.Flush()
}

// WriteTimmCSV writes the evaluated rows in timm's results format:
// model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation
// (param_count in millions, as timm writes it). Skipped rows are left out.
func WriteTimmCSV(w io.Writer, rows []VerifyRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"model", "top1", "top1_err", "top5", "top5_err", "param_count", "img_size", "crop_pct", "interpolation"})
	f := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, r := range rows {
		if r.Images == 0 {
			continue
		}
		cw.Write([]string{r.Name, f(r.Top1, 3), f(100-r.Top1, 3), f(r.Top5, 3), f(100-r.Top5, 3),
			f(float64(r.ParamCount)/1e6, 2), strconv.Itoa(r.ImgSize), f(r.CropPct, 3), r.Interpolation})
	}
	cw.Flush()
	return cw.Error()
}
