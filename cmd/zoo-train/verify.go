package main

import (
	"context"
	"flag"
	"fmt"
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

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: zoo-train verify [flags] NAME... [flags] (wildcards such as '*_fashion_*'; 'all')")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Loads each model through the hub (ZOO_STORE, ZOO_MANIFEST), evaluates the test set with")
		fmt.Fprintln(stderr, "the entry's preprocessing and compares with the reported accuracy. Accuracies this")
		fmt.Fprintln(stderr, "project measured must match exactly; published ones within --tolerance. Models whose")
		fmt.Fprintln(stderr, "dataset or weights are absent are reported as skipped. Exit status 1 on any failure.")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "--data is the dataset's directory: Fashion-MNIST / MNIST IDX files, CIFAR-10 binary batches")
		fmt.Fprintln(stderr, "(cifar-10-batches-bin), or ImageNet's validation images one folder per synset")
		fmt.Fprintln(stderr, "(DIR/val/n01440764/*.JPEG or DIR/n01440764/*.JPEG), whose class indices come from the")
		fmt.Fprintln(stderr, "synset list (--synsets, or LOC_synset_mapping.txt / synset_words.txt / synset.txt /")
		fmt.Fprintln(stderr, "synsets.txt beside the images), never from the folders present.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	dataset := fs.String("dataset", "", "evaluate on this dataset instead of each entry's")
	data := fs.String("data", os.Getenv("ZOO_DATA"), "dataset directory (env ZOO_DATA; default: the Debian / GoMNIST install for (Fashion-)MNIST)")
	tolerance := fs.Float64("tolerance", 0.1, "largest accepted |top-1 delta| in points for published (paper/README) accuracies")
	csvPath := fs.String("csv", "verify.csv", "write timm-format results here (\"\": none)")
	manifest := fs.String("manifest", "", "weights.json to read (default: ZOO_MANIFEST, else the embedded one)")
	limit := fs.Int("limit", 0, "evaluate only the first N test images (no verdict against the reported accuracy)")
	synsets := fs.String("synsets", os.Getenv("ZOO_SYNSETS"), "ImageNet synset list, line i = class i in torchvision's order (\"n01440764 tench, Tinca tinca\" or \"n01440764\"; env ZOO_SYNSETS)")
	quiet := fs.Bool("quiet", false, "no progress bar on stderr")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fs.Usage()
		return fmt.Errorf("no model names")
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

// parseInterspersed parses flags that come before, between or after the
// positional arguments (verify NAME --data DIR, as users type it) and
// returns the positional ones; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
