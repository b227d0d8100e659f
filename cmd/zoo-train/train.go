package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	fmixzoo "github.com/fmixzoo/zoo"
	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/internal/train"
)

func init() {
	register("train", command{
		summary: "train a model with FMix/MixUp/CutMix and publish it to the store",
		run:     runTrain,
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// trainUsage is what `zoo-train train -h` prints above the flags.
const trainUsage = `usage: zoo-train train --arch ARCH --dataset NAME [flags]

Trains with the published recipe (SGD lr 0.1, momentum 0.9, weight decay 1e-4,
multistep 100,150 × 0.1, batch 128), checkpoints every epoch, writes curves, then
exports ONNX, measures top-1/top-5 through it, pushes it to the store and
writes the weights.json entry.
`

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := train.DefaultConfig()
	fs := newFlagSet("train", stderr, trainUsage)
	fs.StringVar(&cfg.Arch, "arch", "lenet", "architecture: lenet, preact_resnet18, resnet18..152, wrn, densenet_bc, pyramidnet")
	fs.IntVar(&cfg.Args.Depth, "depth", 0, "architecture depth (where it has one)")
	fs.IntVar(&cfg.Args.Width, "width", 0, "architecture base width (preact_resnet18: 64 published)")
	fs.IntVar(&cfg.Args.Widen, "widen", 0, "WRN widen factor")
	fs.IntVar(&cfg.Args.Growth, "growth", 0, "DenseNet growth rate")
	fs.Float64Var(&cfg.Args.Alpha, "arch-alpha", 0, "PyramidNet alpha")
	fs.IntVar(&cfg.Args.InputSize, "input-size", 0, "input height and width (0: the dataset's, or the architecture's default)")
	fs.StringVar(&cfg.Dataset, "dataset", envOr("ZOO_DATASET", "fashion_mnist"), "fashion_mnist, mnist, cifar10, cifar100 or imagenet (env ZOO_DATASET)")
	fs.StringVar(&cfg.DataDir, "data", os.Getenv("ZOO_DATA"), "dataset directory (env ZOO_DATA; default: the Debian / GoMNIST install for (Fashion-)MNIST)")
	fs.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first N training images (0: all)")
	fs.IntVar(&cfg.TestLimit, "test-limit", 0, "evaluate each epoch on the first N test images (0: all; publishing always uses all)")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "epochs")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "batch size")
	fs.IntVar(&cfg.StepsPerEpoch, "steps-per-epoch", 0, "cap the steps of each epoch (0: the whole training set)")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "peak learning rate")
	fs.Float64Var(&cfg.Momentum, "momentum", cfg.Momentum, "SGD momentum")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", cfg.WeightDecay, "L2 weight decay")
	schedule := fs.String("schedule", "100,150", "multistep milestones (epochs, comma-separated) or \"cosine\"")
	fs.Float64Var(&cfg.Gamma, "gamma", cfg.Gamma, "multistep decay factor")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "linear warmup epochs (the published option is 5)")
	fs.StringVar(&cfg.MSDA.Mode, "msda", "none", "mixed sample data augmentation: none, mixup, cutmix, fmix or fmixplusmixup")
	fs.Float64Var(&cfg.MSDA.Alpha, "alpha", cfg.MSDA.Alpha, "Beta(α, α) parameter of the mixing coefficient")
	fs.Float64Var(&cfg.MSDA.DecayPower, "f-decay", cfg.MSDA.DecayPower, "FMix frequency decay power δ")
	fs.BoolVar(&cfg.MSDA.Reformulate, "reformulate", false, "FMix: draw λ from Beta(α+1, α) (the paper's reformulation)")
	fs.Float64Var(&cfg.MSDA.MaxSoft, "max-soft", 0, "FMix: soften mask edges (0 ≤ max-soft ≤ 0.5)")
	fs.StringVar(&cfg.MSDA.Variant, "variant", cfg.MSDA.Variant, "FMix spectrum: official or isotropic")
	seed := fs.Uint64("seed", 0, "random seed (initialisation, order, augmentation, mixing)")
	fs.IntVar(&cfg.Workers, "workers", 0, "data loading goroutines (0: GOMAXPROCS)")
	maxMinutes := fs.Float64("max-minutes", 0, "stop training after this many minutes (0: no budget)")
	out := fs.String("out", "", "run directory for the checkpoint and curves (default runs/NAME)")
	resume := fs.Bool("resume", false, "continue from the run directory's checkpoint")
	name := fs.String("name", "", "weights.json entry name (default ARCH_DATASET_MSDA, baseline for none)")
	publish := fs.Bool("publish", true, "export, measure, push to the store and update weights.json at the end")
	storeURI := fs.String("store", envOr("ZOO_STORE", "weights"), "store to push to: a directory, file://DIR or s3://BUCKET/PREFIX (env ZOO_STORE)")
	manifest := fs.String("manifest", envOr("ZOO_MANIFEST_FILE", "weights.json"), "weights.json file to update (\"\": none; env ZOO_MANIFEST_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Seed = *seed
	cfg.Resume = *resume
	cfg.MaxDuration = time.Duration(*maxMinutes * float64(time.Minute))
	if *schedule == "cosine" {
		cfg.Schedule, cfg.Milestones = "cosine", nil
	} else {
		m, err := train.ParseMilestones(*schedule)
		if err != nil {
			return err
		}
		cfg.Schedule, cfg.Milestones = "multistep", m
	}
	ds, err := data.CanonicalName(cfg.Dataset)
	if err != nil {
		return err
	}
	cfg.Dataset = ds
	if *name == "" {
		*name = fmt.Sprintf("%s_%s_%s", cfg.Arch, strings.ReplaceAll(ds, "_mnist", ""), train.MSDAName(cfg.MSDA.Mode))
	}
	if *out == "" {
		*out = filepath.Join("runs", *name)
	}
	cfg.Checkpoint = filepath.Join(*out, "checkpoint.gob")
	cfg.CurvesDir = *out

	var store hub.Store
	if *publish {
		// Open the store before hours of training, so a bad URI fails now.
		if store, err = openStore(*storeURI); err != nil {
			return err
		}
	}
	res, err := train.Train(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	if res.Stopped != "" {
		fmt.Fprintf(stderr, "stopped early: %s\n", res.Stopped)
	}
	fmt.Fprintf(stdout, "trained %s: %d epochs, %d steps in %v\n", *name, res.Epochs, res.Steps, res.Elapsed.Round(time.Second))
	if !*publish {
		return nil
	}
	labels, set, err := labelsFor(ds, *manifest)
	if err != nil {
		return err
	}
	e, err := train.Publish(ctx, res, train.PublishOptions{
		Name: *name, Store: store, Manifest: *manifest, Labels: labels, LabelSet: set,
		CommandLine: append([]string{"zoo-train", "train"}, args...), GitCommit: train.GitCommit(ctx),
		Description: fmt.Sprintf("%s trained here on %s with %s (seed %d)", cfg.Arch, ds, train.MSDAName(cfg.MSDA.Mode), cfg.Seed),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s to %s: top-1 %.2f%% top-5 %.2f%% sha256 %s (%d bytes)\n",
		e.Name, store, *e.Accuracy.Top1, *e.Accuracy.Top5, e.Weights.SHA256, e.Weights.Size)
	return nil
}

// labelsFor returns the class names of a dataset from the label set of the
// same name in the weights.json being updated (or the embedded one).
func labelsFor(dataset, manifestPath string) ([]string, string, error) {
	manifest := fmixzoo.Manifest
	if manifestPath != "" {
		var err error
		if manifest, err = os.ReadFile(manifestPath); err != nil {
			return nil, "", fmt.Errorf("read labels: %w", err)
		}
	}
	m, err := hub.ParseManifest(manifest)
	if err != nil {
		return nil, "", fmt.Errorf("read labels: %w", err)
	}
	labels := m.LabelSet(dataset)
	if labels == nil {
		return nil, "", nil
	}
	return labels, dataset, nil
}
