package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/attack"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/internal/progress"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

func init() {
	register("robustness", command{
		summary: "L∞ adversarial robustness sweep (foolbox's FGSM, PGD, BIM, uniform noise, DeepFool)",
		run:     runRobustness,
	})
}

// maxSweepValues bounds the test pixels a sweep holds in memory (1 GiB).
const maxSweepValues = 1 << 28

// robustnessUsage is what `zoo-train robustness -h` prints above the flags.
const robustnessUsage = `usage: zoo-train robustness NAME... [--data fashion_mnist|DIR] [--attacks fgsm,pgd,bim,uniform,deepfool]
                           [--eps LIST] [--limit N] [--out DIR] [flags]

The FMix seed's analysis/adversarial_linf.py: attacks each model (names or wildcards such
as 'lenet_fashion_*', loaded through the hub) on the test set with foolbox 3's L∞ attacks
and defaults, in pixel space [0, 1] with the entry's normalisation inside the model, at
each ε. Success is foolbox's: misclassified after the attack, over every test image
(images the model already gets wrong count as successes, so ε = 0 gives the error rate).
Writes DIR/robustness.csv (model, attack, epsilon, success_rate, success, n, seconds)
and DIR/robustness.png (success rate against ε, one panel per attack, one line per model),
both after every attack. While an attack runs, DIR/robustness.partial.json holds the
batches it has finished; --append resumes from both, so a stopped sweep loses at most the
batches in flight (run the same command again with --append).

--data is a dataset name (fashion_mnist, mnist, cifar10, …; Debian's / GoMNIST's install
for (Fashion-)MNIST) or a directory holding the entry's dataset; default: each entry's
dataset at its default location. Images go through the entry's preprocessing.
`

func runRobustness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("robustness", stderr, robustnessUsage)
	dataArg := fs.String("data", os.Getenv("ZOO_DATA"), "dataset name or directory (env ZOO_DATA)")
	attacks := fs.String("attacks", strings.Join(attack.AllAttacks, ","), "comma-separated attacks")
	epsList := fs.String("eps", "", "comma-separated ε list (default the seed's: "+formatEps(attack.SeedEpsilons)+")")
	limit := fs.Int("limit", 0, "attack only the first N test images (0: all)")
	out := fs.String("out", ".", "directory for robustness.csv and robustness.png")
	batch := fs.Int("batch", 64, "images attacked together")
	seed := fs.Uint64("seed", 0, "seed of PGD's random starts and the uniform noise")
	manifest := fs.String("manifest", "", "weights.json to read (default: ZOO_MANIFEST, else the embedded one)")
	quiet := fs.Bool("quiet", false, "no progress bar on stderr")
	workers := fs.Int("workers", 1, "batches attacked at once, each on its own copy of the model (the kernels already use every core inside one; more pays on many cores)")
	appendOld := fs.Bool("append", false, "keep the results in an existing DIR/robustness.csv, skip the attacks it already has at every ε over the same images and resume those DIR/robustness.partial.json has part-way (an interrupted sweep goes on where it stopped)")
	patterns, err := parseNames(fs, args)
	if err != nil {
		return err
	}
	atk, err := attack.ParseAttacks(*attacks)
	if err != nil {
		return err
	}
	eps := attack.SeedEpsilons
	if *epsList != "" {
		if eps, err = parseEps(*epsList); err != nil {
			return err
		}
	}
	if *limit < 0 || *batch < 1 || *batch > 4096 {
		return fmt.Errorf("--limit %d, --batch %d: want a limit ≥ 0 and a batch in [1, 4096]", *limit, *batch)
	}
	if *workers < 1 || *workers > 256 {
		return fmt.Errorf("--workers %d: want 1 to 256", *workers)
	}
	m, names, err := resolveModels(ctx, *manifest, patterns)
	if err != nil {
		return err
	}
	opts := []hub.Option{hub.WithManifest(m)}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	csvPath, pngPath := filepath.Join(*out, "robustness.csv"), filepath.Join(*out, "robustness.png")
	state := &sweepState{path: filepath.Join(*out, "robustness.partial.json")}
	var all []attack.ModelResults
	if *appendOld {
		if all, err = readSweepCSV(csvPath); err != nil {
			return err
		}
		if err := state.read(); err != nil {
			return err
		}
	} else if err := os.Remove(state.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, name := range names {
		start := time.Now()
		o := attack.SweepOptions{Attacks: atk, Epsilons: eps, Batch: *batch, Seed: *seed}
		var have []attack.Result
		if *appendOld {
			have = modelResults(all, name)
		}
		// Saved after every attack (the CSV) and every batch (the state):
		// an interrupted sweep keeps what it finished, and --append goes on
		// from there.
		run := sweepRun{Model: name}
		o.AttackDone = func(res []attack.Result) error {
			all = attack.Merge(all, []attack.ModelResults{{Model: name, Results: res}})
			if err := writeSweep(csvPath, pngPath, all); err != nil {
				return err
			}
			return state.drop(run, res[0].Attack)
		}
		o.BatchDone = func(p attack.Partial) error {
			r := run
			r.Partial = p
			if err := state.put(r); err != nil {
				return err
			}
			if sweepBatchHook != nil {
				sweepBatchHook(name, p)
			}
			return nil
		}
		res, err := sweepModel(ctx, &run, *dataArg, *limit, *workers, o, have, state, opts, stderr, *quiet)
		if err != nil {
			return err
		}
		if len(res) == 0 {
			fmt.Fprintf(stdout, "%s: every attack and ε asked for is already in %s\n", name, csvPath)
			continue
		}
		printSweep(stdout, name, res, eps, time.Since(start))
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", csvPath, pngPath)
	return nil
}

// readSweepCSV reads an earlier sweep's CSV; a missing file is no results.
func readSweepCSV(path string) ([]attack.ModelResults, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := attack.ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("--append: %s: %w", path, err)
	}
	return all, nil
}

// writeSweep writes the CSV (atomically)
// and the plot.
func writeSweep(csvPath, pngPath string, all []attack.ModelResults) error {
	var buf bytes.Buffer
	if err := attack.WriteCSV(&buf, all); err != nil {
		return err
	}
	if err := atomicfile.Write(csvPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return attack.WritePNG(pngPath, all)
}

// modelResults is one model's results in all (nil when it has none).
func modelResults(all []attack.ModelResults, name string) []attack.Result {
	for _, m := range all {
		if m.Model == name {
			return m.Results
		}
	}
	return nil
}

// sweepModel loads one model and its test images in pixel space and
// attacks the first limit (0: all) test images with every attack
// of o, except those that have (from an earlier run) a result at every ε of
// o over the same number of images; it returns the results of the attacks
// it ran (none when have holds them all).
//
// It fills in run's weights and inputs digests, and resumes the attacks
// state holds for the same run.
func sweepModel(ctx context.Context, run *sweepRun, dataArg string, limit, workers int, o attack.SweepOptions, have []attack.Result, state *sweepState, opts []hub.Option, stderr io.Writer, quiet bool) ([]attack.Result, error) {
	name := run.Model
	model, err := hub.LoadContext(ctx, name, opts...)
	if err != nil {
		return nil, err
	}
	net, err := hub.LoadNet(ctx, name, opts...)
	if err != nil {
		return nil, err
	}
	e := model.Info()
	ds, err := openSweepData(e.Dataset, dataArg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := ds.Len()
	if limit > 0 {
		n = min(n, limit)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: the test set is empty", name)
	}
	in := e.Input
	c, per := in.Shape[0], in.Shape[0]*in.Shape[1]*in.Shape[2]
	if int64(n)*int64(per) > maxSweepValues {
		return nil, fmt.Errorf("%s: %d images of %v are more than %d values in memory; pass a smaller --limit", name, n, in.Shape, maxSweepValues)
	}
	if len(in.Mean) != c || len(in.Std) != c {
		return nil, fmt.Errorf("%s: entry has %d means and %d stds for %d channels", name, len(in.Mean), len(in.Std), c)
	}
	o.Attacks = slices.DeleteFunc(slices.Clone(o.Attacks), func(a string) bool {
		return !slices.ContainsFunc(o.Epsilons, func(e float64) bool {
			return !slices.ContainsFunc(have, func(r attack.Result) bool { return r.Attack == a && r.Epsilon == e && r.N == n })
		})
	})
	if len(o.Attacks) == 0 {
		return nil, nil
	}
	x := make([]float32, n*per)
	labels := make([]int, n)
	plane := per / c
	for i := range n {
		ex, err := ds.Example(i)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v, err := model.Preprocess(data.ExampleImage(ex))
		if err != nil {
			return nil, fmt.Errorf("%s: preprocess example %d: %w", name, i, err)
		}
		// Back to pixel space: the model normalises inside.
		for j, p := range v {
			ch := j / plane
			x[i*per+j] = min(max(float32(float64(p)*in.Std[ch]+in.Mean[ch]), 0), 1)
		}
		if ex.Label < 0 || ex.Label >= len(e.Labels) && len(e.Labels) > 0 {
			return nil, fmt.Errorf("%s: example %d has label %d for %d classes", name, i, ex.Label, len(e.Labels))
		}
		labels[i] = ex.Label
	}
	run.Weights, run.Inputs = e.Weights.SHA256, inputsDigest(x, labels)
	o.Resume = state.resume(*run, o, n)
	for _, p := range o.Resume {
		fmt.Fprintf(stderr, "%s: %s resumes after %d of %d batches (%s)\n", name, p.Attack, len(p.Done), (n+o.Batch-1)/o.Batch, state.path)
	}
	pm, err := attack.NewNetModel(net, in.Mean, in.Std, o.Batch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for range workers - 1 {
		rnet, err := hub.LoadNet(ctx, name, opts...)
		if err != nil {
			return nil, err
		}
		rm, err := attack.NewNetModel(rnet, in.Mean, in.Std, o.Batch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		o.Replicas = append(o.Replicas, rm)
	}
	if !quiet {
		bar := newSweepBar(stderr, fmt.Sprintf("%s (%d images)", name, n))
		o.Progress = bar.update
		defer bar.Clear()
	}
	res, err := attack.Sweep(ctx, pm, x, labels, o)
	if err != nil {
		if len(o.Resume) > 0 && errors.Is(err, attack.ErrInput) {
			return nil, fmt.Errorf("%s: %s: %w", name, state.path, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// sweepBatchHook, when set (by tests), is called after each batch's state
// is saved.
var sweepBatchHook func(model string, p attack.Partial)

// sweepState is DIR/robustness.partial.json: the attacks a sweep is in the
// middle of, each with what identifies its run.
type sweepState struct {
	path string
	runs []sweepRun
}

// sweepRun is one model's attack part-way through: the model, the digests
// of its weights and of the images and labels attacked, and the attack's
// state.
type sweepRun struct {
	Model   string         `json:"model"`
	Weights string         `json:"weights_sha256"`
	Inputs  string         `json:"inputs_sha256"`
	Partial attack.Partial `json:"partial"`
}

// maxStateBytes bounds the state file read back (a sweep's is a few KiB).
const maxStateBytes = 64 << 20

func (s *sweepState) read() error {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxStateBytes {
		return fmt.Errorf("--append: %s is larger than %d bytes", s.path, maxStateBytes)
	}
	var doc struct {
		Runs []sweepRun `json:"runs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("--append: %s: %w (delete it to start its attacks over)", s.path, err)
	}
	s.runs = doc.Runs
	return nil
}

func (s *sweepState) write() error {
	if len(s.runs) == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.MarshalIndent(struct {
		Runs []sweepRun `json:"runs"`
	}{s.runs}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(b, '\n'), 0o644)
}

// same reports whether a and b are the same run of the same attack.
func (a sweepRun) same(b sweepRun) bool {
	return a.Model == b.Model && a.Weights == b.Weights && a.Inputs == b.Inputs && a.Partial.Attack == b.Partial.Attack
}

// put saves r's state, replacing the one of the same run and attack.
func (s *sweepState) put(r sweepRun) error {
	s.runs = slices.DeleteFunc(s.runs, r.same)
	s.runs = append(s.runs, r)
	return s.write()
}

// drop forgets the state of run's attack a (finished and in the CSV).
func (s *sweepState) drop(run sweepRun, a string) error {
	run.Partial = attack.Partial{Attack: a}
	s.runs = slices.DeleteFunc(s.runs, run.same)
	return s.write()
}

// resume returns the states of run's attacks in o (same weights, images,
// ε list, batch size and seed); others are left alone.
func (s *sweepState) resume(run sweepRun, o attack.SweepOptions, n int) []attack.Partial {
	var out []attack.Partial
	for _, r := range s.runs {
		p := r.Partial
		if r.Model == run.Model && r.Weights == run.Weights && r.Inputs == run.Inputs && slices.Contains(o.Attacks, p.Attack) &&
			slices.Equal(p.Epsilons, o.Epsilons) && p.N == n && p.Batch == o.Batch && p.Seed == o.Seed {
			out = append(out, p)
		}
	}
	return out
}

// inputsDigest is the hex SHA-256 of the pixels and labels attacked.
func inputsDigest(x []float32, labels []int) string {
	h := sha256.New()
	var b [8]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
		h.Write(b[:4])
	}
	for _, l := range labels {
		binary.LittleEndian.PutUint64(b[:], uint64(l))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// openSweepData opens the test split: --data as a dataset name, else as a
// directory of the entry's dataset, else the entry's dataset's default.
func openSweepData(entryDataset, dataArg string) (data.Dataset, error) {
	if dataArg == "" {
		return data.Open(entryDataset, "", data.TestSplit)
	}
	if st, err := os.Stat(dataArg); err == nil && st.IsDir() {
		return data.Open(entryDataset, dataArg, data.TestSplit)
	}
	if _, err := data.CanonicalName(dataArg); err != nil {
		return nil, fmt.Errorf("--data %q is neither a dataset name nor a directory: %w", dataArg, err)
	}
	return data.Open(dataArg, "", data.TestSplit)
}

func parseEps(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 0 || v > 1 {
			return nil, fmt.Errorf("--eps: %q is not a number in [0, 1]", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func formatEps(eps []float64) string {
	s := make([]string, len(eps))
	for i, v := range eps {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// printSweep prints one model's success rates: a row per attack, a column
// per ε.
func printSweep(w io.Writer, name string, res []attack.Result, eps []float64, took time.Duration) {
	fmt.Fprintf(w, "%s (%d images, %s): success rate (%%) by ε\n", name, res[0].N, took.Round(time.Second))
	fmt.Fprintf(w, "  %-9s", "attack")
	for _, e := range eps {
		fmt.Fprintf(w, " %7s", strconv.FormatFloat(e, 'g', 3, 64))
	}
	fmt.Fprintln(w)
	for i, r := range res {
		if i%len(eps) == 0 {
			fmt.Fprintf(w, "  %-9s", r.Attack)
		}
		fmt.Fprintf(w, " %7.2f", 100*r.Rate())
		if i%len(eps) == len(eps)-1 {
			fmt.Fprintln(w)
		}
	}
}

// sweepBar draws a sweep's progress: on a terminal a bar redrawn in place,
// elsewhere a line every 30 seconds.
type sweepBar struct {
	progress.Line
	name  string
	start time.Time
}

func newSweepBar(w io.Writer, name string) *sweepBar {
	return &sweepBar{Line: progress.New(w), name: name, start: time.Now()}
}

func (b *sweepBar) update(done, total float64) {
	now := time.Now()
	if !b.Due(now) {
		return
	}
	el := now.Sub(b.start)
	frac := done / max(total, 1)
	eta := time.Duration(0)
	if frac > 0 {
		eta = time.Duration(float64(el) * (1 - frac) / frac)
	}
	b.Draw(fmt.Sprintf("%s %s %5.1f%% %s elapsed, ETA %s", b.name, progress.Bar(done, total),
		100*frac, el.Round(time.Second), eta.Round(time.Second)))
}
