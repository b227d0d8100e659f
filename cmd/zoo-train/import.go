package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/zoo"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

func init() {
	register("import", command{
		summary: "convert a PyTorch checkpoint (.pt state dict) of a zoo architecture to ONNX",
		run:     runImport,
	})
	register("pull", command{
		summary: "download and convert published checkpoints into a store, for air-gapped deployments",
		run:     runPull,
	})
}

// importUsage is what `zoo-train import -h` prints above the flags.
const importUsage = `usage: zoo-train import --arch NAME [arch flags] --in FILE.pt --out FILE.onnx [--push --name NAME]

Reads a PyTorch checkpoint (zip or legacy format; plain state dict or one under
'state_dict'/'model', 'module.' prefixes allowed) without Python, checks every key and
shape against the architecture like load_state_dict(strict=True), and writes ONNX
(opset 13, dynamic batch, input "input", output "logits") that carries its hub entry
(input shape, and --dataset's normalisation when given), so hub.ReadONNX and zoo-serve
open it on its own.
`

// pullUsage is what `zoo-train pull -h` prints above the flags.
const pullUsage = `usage: zoo-train pull [--to STORE] [--manifest FILE] NAME...|all

Downloads the authors' PyTorch checkpoints of published names (ZOO_UPSTREAM replaces
their base URL), converts them to ONNX, writes the ONNX into the store and records each
entry's sha256 and size in the manifest file, so that an air-gapped zoo-serve can load
them verified from that store (ZOO_STORE, ZOO_MANIFEST, ZOO_OFFLINE=1).
`

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr, importUsage)
	var a zoo.Args
	arch := fs.String("arch", "", "architecture: "+fmt.Sprint(zoo.Archs()))
	fs.IntVar(&a.NumClasses, "num-classes", 0, "number of classes (0: the architecture's default)")
	fs.IntVar(&a.NC, "nc", 0, "input channels (0: default)")
	fs.IntVar(&a.Depth, "depth", 0, "depth (pyramidnet, wrn, densenet_bc)")
	fs.Float64Var(&a.Alpha, "alpha", 0, "PyramidNet widening α")
	fs.IntVar(&a.Widen, "widen", 0, "WRN widening factor")
	fs.IntVar(&a.Growth, "growth", 0, "DenseNet growth rate")
	fs.IntVar(&a.Width, "width", 0, "base width (preact_resnet18, resnet*, lenet)")
	fs.IntVar(&a.InputSize, "input-size", 0, "input height and width the network is exported for (0: the architecture's default: 32 for CIFAR networks, 224 for ResNets, 28 for LeNet)")
	in := fs.String("in", "", "PyTorch checkpoint to read")
	out := fs.String("out", "", "ONNX file to write")
	push := fs.Bool("push", false, "also write the ONNX into the store and its entry into the manifest file")
	name := fs.String("name", "", "entry name for --push (default: the output file's base name)")
	storeURI := fs.String("store", envOr("ZOO_STORE", "weights"), "store for --push (env ZOO_STORE)")
	manifest := fs.String("manifest", envOr("ZOO_MANIFEST_FILE", "weights.json"), "weights.json to update for --push (env ZOO_MANIFEST_FILE)")
	dataset := fs.String("dataset", "", "dataset recorded in the --push entry (cifar10, imagenet, fashion-mnist, …)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *arch == "" || *in == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("--arch, --in and --out are required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	net, err := zoo.ImportPT(*arch, a, f, st.Size())
	if err != nil {
		return err
	}
	if *name == "" {
		*name = trimExt(filepath.Base(*out))
	}
	e, err := importEntry(*name, *arch, net, *dataset, filepath.Base(*in))
	if err != nil {
		return err
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := net.ExportONNX(&buf, map[string]string{hub.MetadataEntryKey: string(meta), "name": *name, "source": filepath.Base(*in)}); err != nil {
		return err
	}
	if _, err := hub.ReadONNX(buf.Bytes()); err != nil {
		return fmt.Errorf("import: the exported ONNX does not open: %w", err)
	}
	if err := atomicfile.Write(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(buf.Bytes())
	fmt.Fprintf(stdout, "%s: %s %+v, %d parameters → %s (%d bytes, sha256 %s) in %.1fs\n",
		*in, *arch, net.Args(), net.NumParams(), *out, buf.Len(), hex.EncodeToString(sum[:]), time.Since(start).Seconds())
	if !*push {
		return nil
	}
	store, err := openStore(*storeURI)
	if err != nil {
		return err
	}
	if e, err = hub.Publish(ctx, store, *manifest, e, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pushed %s to %s and updated %s\n", e.Weights.Key, store, *manifest)
	return nil
}

func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pull", stderr, pullUsage)
	to := fs.String("to", envOr("ZOO_STORE", "weights"), "store to fill: a directory, file://DIR or s3://BUCKET/PREFIX")
	manifestOut := fs.String("manifest", "weights.pulled.json", "manifest file to write (created from the current manifest when absent)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("no model names")
	}
	client, err := hub.FromEnv()
	if err != nil {
		return err
	}
	m, err := client.LoadManifest(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, p := range fs.Args() {
		if p == "all" {
			p = "*"
		}
		for _, n := range m.Names(p) {
			if e, _ := m.Lookup(n); e.Upstream != nil {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no published name matches %q", fs.Args())
	}
	store, err := client.OpenStore(*to)
	if err != nil {
		return err
	}
	cache, err := client.OpenCache()
	if err != nil {
		return err
	}
	if _, err := os.Stat(*manifestOut); os.IsNotExist(err) {
		src, err := os.ReadFile(cmp.Or(client.ManifestSource, "weights.json"))
		if err != nil {
			return fmt.Errorf("start %s from the current manifest: %w", *manifestOut, err)
		}
		if err := atomicfile.Write(*manifestOut, src, 0o644); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	for _, n := range names {
		e, _ := m.Lookup(n)
		start := time.Now()
		file, err := hub.ImportPyTorch(ctx, e, hub.ImportEnv{Cache: cache, Logger: logger, Progress: stderr,
			HTTPClient: client.HTTPClient, Upstream: client.Upstream})
		if err != nil {
			return fmt.Errorf("pull %s: %w", n, err)
		}
		if e, err = hub.Publish(ctx, store, *manifestOut, e, file); err != nil {
			return fmt.Errorf("pull %s: %w", n, err)
		}
		fmt.Fprintf(stdout, "%s: %s (%d bytes, sha256 %s) in %.1fs\n", n, e.Weights.Key, len(file), e.Weights.SHA256, time.Since(start).Seconds())
	}
	return nil
}

// importEntry is the hub entry of an imported network: its input shape,
// the normalisation of dataset's test transform when dataset is given and
// fits the shape (else mean 0, std 1), class indices as labels.
func importEntry(name, arch string, net *zoo.Net, dataset, source string) (hub.Entry, error) {
	shape := net.InputShape()
	c, h := shape[0], shape[1]
	in := hub.Input{Shape: shape, Mean: repeat(0, c), Std: repeat(1, c), Crop: h, Interpolation: "bilinear", Scale: 255}
	notes := "imported with zoo-train import from " + source + "; set input mean/std and labels for the training data"
	if dataset != "" {
		canon, err := data.CanonicalName(dataset)
		if err != nil {
			return hub.Entry{}, err
		}
		dataset = canon
		if tf, err := data.TestTransform(canon); err == nil && tf.C == c && tf.Crop == h && shape[2] == h {
			v := tf.Vision()
			in.Mean, in.Std, in.Resize = v.Mean, v.Std, tf.Resize
			notes = "imported with zoo-train import from " + source + "; normalised as the " + canon + " test transform; set labels for the training data"
		}
	}
	return hub.Entry{
		Name: name, Arch: arch, Args: net.Args(), Dataset: dataset, MSDA: "unknown",
		Input:    in,
		Labels:   classLabels(net.Args().NumClasses),
		Accuracy: hub.Accuracy{Source: "none"},
		Weights:  hub.Weights{Key: name + ".onnx", Format: "onnx"},
		Notes:    notes,
	}, nil
}

// openStore opens a store URI with the environment's S3 endpoint and
// region (hub.FromEnv).
func openStore(uri string) (hub.Store, error) {
	client, err := hub.FromEnv()
	if err != nil {
		return nil, err
	}
	return client.OpenStore(uri)
}

// resolveModels opens the manifest (a path or URL; "": the environment's,
// see hub.FromEnv) and expands name patterns (path.Match wildcards) into
// entry names, in order.
func resolveModels(ctx context.Context, manifest string, patterns []string) (*hub.Manifest, []string, error) {
	client, err := hub.FromEnv()
	if err != nil {
		return nil, nil, err
	}
	if manifest != "" {
		client.ManifestSource = manifest
	}
	m, err := client.LoadManifest(ctx)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, p := range patterns {
		got := m.Names(p)
		if len(got) == 0 {
			return nil, nil, fmt.Errorf("no model matches %q", p)
		}
		names = append(names, got...)
	}
	return m, names, nil
}

func trimExt(s string) string { return s[:len(s)-len(filepath.Ext(s))] }

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func classLabels(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}
