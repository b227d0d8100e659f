package main

import (
	"context"
	"io"
	"os"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/train"
)

func init() {
	register("verify", command{
		summary: "re-measure models' test accuracy and compare with weights.json",
		run:     runVerify,
	})
}

// verifyUsage is what `zoo-train verify -h` prints above the flags.
const verifyUsage = `usage: zoo-train verify [flags] NAME... [flags] (wildcards such as '*_fashion_*'; 'all')

Loads each model through the hub (ZOO_STORE, ZOO_MANIFEST), evaluates the test set with
the entry's preprocessing and compares with the reported accuracy. Accuracies this
project measured must match exactly; published ones within --tolerance. Models whose
dataset or weights are absent are reported as skipped. Exit status 1 on any failure.

--data is the dataset's directory: Fashion-MNIST / MNIST IDX files, CIFAR-10 binary batches
(cifar-10-batches-bin), or ImageNet's validation images one folder per synset
(DIR/val/n01440764/*.JPEG or DIR/n01440764/*.JPEG), whose class indices come from the
synset list (--synsets, or LOC_synset_mapping.txt / synset_words.txt / synset.txt /
synsets.txt beside the images), never from the folders present.
`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify", stderr, verifyUsage)
	dataset := fs.String("dataset", "", "evaluate on this dataset instead of each entry's")
	data := fs.String("data", os.Getenv("ZOO_DATA"), "dataset directory (env ZOO_DATA; default: the Debian / GoMNIST install for (Fashion-)MNIST)")
	tolerance := fs.Float64("tolerance", 0.1, "largest accepted |top-1 delta| in points for published (paper/README) accuracies")
	csvPath := fs.String("csv", "verify.csv", "write timm-format results here (\"\": none)")
	manifest := fs.String("manifest", "", "weights.json to read (default: ZOO_MANIFEST, else the embedded one)")
	limit := fs.Int("limit", 0, "evaluate only the first N test images (no verdict against the reported accuracy)")
	synsets := fs.String("synsets", os.Getenv("ZOO_SYNSETS"), "ImageNet synset list, line i = class i in torchvision's order (\"n01440764 tench, Tinca tinca\" or \"n01440764\"; env ZOO_SYNSETS)")
	quiet := fs.Bool("quiet", false, "no progress bar on stderr")
	names, err := parseNames(fs, args)
	if err != nil {
		return err
	}
	o := train.VerifyOptions{Patterns: names, Dataset: *dataset, DataDir: *data, Tolerance: *tolerance, Limit: *limit, Synsets: *synsets}
	if !*quiet {
		o.Progress = stderr
	}
	if *manifest != "" {
		m, err := hub.ReadManifest(ctx, *manifest, nil)
		if err != nil {
			return err
		}
		o.Manifest = m
	}
	rows, verr := train.Verify(ctx, o)
	if err := train.WriteVerifyTable(stdout, rows); err != nil {
		return err
	}
	if *csvPath != "" && len(rows) > 0 {
		f, err := os.Create(*csvPath)
		if err != nil {
			return err
		}
		if err := train.WriteTimmCSV(f, rows); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return verr
}
