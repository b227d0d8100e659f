package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
)

// PublishOptions configure Publish.
type PublishOptions struct {
	// Name is the weights.json entry name, e.g. lenet_fashion_fmix.
	Name string
	// Store receives the ONNX file under Key (default Name + ".onnx").
	Store hub.Store
	Key   string
	// Manifest is the weights.json to update ("" : leave it alone).
	Manifest string
	// Labels and LabelSet name the classes: LabelSet refers to the
	// manifest's label_sets and is written in place of the list.
	Labels   []string
	LabelSet string
	// CommandLine and GitCommit go into the provenance.
	CommandLine []string
	GitCommit   string
	Description string
}

// MSDAName is the weights.json "msda" value for a mode ("none" → "baseline").
func MSDAName(mode string) string {
	if mode == "" || mode == "none" {
		return "baseline"
	}
	return mode
}

// Publish exports the trained network to ONNX, measures its top-1/top-5 on
// the full test set through the exported file and the inference engine (as
// verify will), and publishes it (hub.Publish): the ONNX into the store,
// the entry into the weights.json file o.Manifest names.
func Publish(ctx context.Context, res *Result, o PublishOptions) (hub.Entry, error) {
	cfg := res.Config
	if err := hub.ValidateName(o.Name); err != nil {
		return hub.Entry{}, fmt.Errorf("train: publish: %w", err)
	}
	if o.Store == nil {
		return hub.Entry{}, fmt.Errorf("train: publish %s: no store", o.Name)
	}
	if o.Key == "" {
		o.Key = o.Name + ".onnx"
	}
	dsName, err := data.CanonicalName(cfg.Dataset)
	if err != nil {
		return hub.Entry{}, err
	}
	tf, err := data.TestTransform(dsName)
	if err != nil {
		return hub.Entry{}, err
	}
	in := hub.Input{
		Shape:  []int{tf.C, tf.Crop, tf.Crop},
		Resize: tf.Resize, Crop: tf.Crop, Interpolation: "bilinear", Scale: 255,
	}
	for c := 0; c < tf.C; c++ {
		in.Mean = append(in.Mean, float64(tf.Norm.Mean[c]))
		in.Std = append(in.Std, float64(tf.Norm.Std[c]))
	}
	e := hub.Entry{
		Name: o.Name, Description: o.Description, Arch: cfg.Arch, Args: cfg.Args,
		Dataset: dsName, MSDA: MSDAName(cfg.MSDA.Mode), Input: in, LabelSet: o.LabelSet, Labels: o.Labels,
		Accuracy: hub.Accuracy{Source: "none"},
		Weights:  hub.Weights{Key: o.Key, Format: "onnx"},
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return hub.Entry{}, err
	}
	var onnx bytes.Buffer
	if err := res.Net.ExportONNX(&onnx, map[string]string{hub.MetadataEntryKey: string(meta), "name": o.Name}); err != nil {
		return hub.Entry{}, fmt.Errorf("train: publish %s: export onnx: %w", o.Name, err)
	}
	file := onnx.Bytes()
	model, err := hub.ReadONNX(file)
	if err != nil {
		return hub.Entry{}, fmt.Errorf("train: publish %s: the exported ONNX does not load: %w", o.Name, err)
	}
	testSet, err := data.Open(dsName, cfg.DataDir, data.TestSplit)
	if err != nil {
		return hub.Entry{}, err
	}
	ev, err := EvaluateModel(ctx, model, testSet)
	if err != nil {
		return hub.Entry{}, err
	}
	top1, top5 := ev.Top1, ev.Top5
	e.Accuracy = hub.Accuracy{Top1: &top1, Top5: &top5, Source: "measured", Provenance: provenance(res, cfg, o, ev, testSet)}
	return hub.Publish(ctx, o.Store, o.Manifest, e, file)
}

// provenance describes how an accuracy was produced, in one line.
func provenance(res *Result, cfg Config, o PublishOptions, ev EvalResult, test data.Dataset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "measured by zoo-train on %d %s test images through the exported ONNX (engine, hub preprocessing, batch %d); ",
		ev.Images, cfg.Dataset, EvalBatch)
	if len(o.CommandLine) > 0 {
		fmt.Fprintf(&b, "command: %s; ", strings.Join(o.CommandLine, " "))
	}
	fmt.Fprintf(&b, "seed %d; commit %s; epochs %d (%d steps of batch %d); wall time %v; machine %s",
		cfg.Seed, orUnknown(o.GitCommit), res.Epochs, res.Steps, cfg.BatchSize, res.Elapsed.Round(time.Second), Machine())
	if res.Stopped != "" {
		fmt.Fprintf(&b, " (%s)", res.Stopped)
	}
	files := append(append([]data.FileDigest{}, res.TrainFiles...), test.Files()...)
	if len(files) > 0 {
		b.WriteString("; data:")
		for _, f := range files {
			fmt.Fprintf(&b, " %s sha256:%s", shortPath(f.Path), f.SHA256)
		}
	}
	return b.String()
}

// Machine describes the computer a run is on: CPU model, logical CPUs, OS
// and architecture, Go version (e.g. "AMD EPYC, 2 CPUs, linux/amd64, go1.26.8").
func Machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func shortPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// GitCommit returns the working tree's commit (with "-dirty" when it has
// changes), or "" when git or the repository is unavailable.
func GitCommit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "-dirty"
	}
	return c
}
