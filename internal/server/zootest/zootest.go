// Package zootest holds what zoo-serve's end-to-end tests and its load test
// share: the real Fashion-MNIST test images and a Fashion-MNIST model to
// serve — a shipped one when the manifest lists one, else one built from the
// PyTorch fixture testdata/torch/lenet.onnx.
package zootest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"github.com/fmixzoo/zoo/hub"
)

// FashionDir holds the Fashion-MNIST test set (Debian dataset-fashion-mnist,
// installed by scripts/install-test-deps.sh).
const FashionDir = "/usr/share/datasets/fashion-mnist"

// FashionTest reads the first n Fashion-MNIST test images and their labels.
func FashionTest(n int) ([]*image.Gray, []int, error) {
	images, err := readIDX(filepath.Join(FashionDir, "t10k-images-idx3-ubyte.gz"), 0x803, n)
	if err != nil {
		return nil, nil, err
	}
	labels, err := readIDX(filepath.Join(FashionDir, "t10k-labels-idx1-ubyte.gz"), 0x801, n)
	if err != nil {
		return nil, nil, err
	}
	imgs := make([]*image.Gray, n)
	ls := make([]int, n)
	per := len(images.data) / n
	for i := range imgs {
		imgs[i] = &image.Gray{Pix: images.data[i*per : (i+1)*per], Stride: images.dims[2], Rect: image.Rect(0, 0, images.dims[2], images.dims[1])}
		ls[i] = int(labels.data[i])
	}
	return imgs, ls, nil
}

type idx struct {
	dims []int // as in the file; dims[0] is the item count
	data []byte
}

// readIDX reads the first n items of a gzipped IDX file of unsigned bytes.
func readIDX(path string, magic uint32, n int) (*idx, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("zootest: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("zootest: read %s: %w", path, err)
	}
	var m uint32
	if err := binary.Read(zr, binary.BigEndian, &m); err != nil || m != magic {
		return nil, fmt.Errorf("zootest: read %s: magic %#x, want %#x (%v)", path, m, magic, err)
	}
	dims := make([]uint32, magic&0xff)
	if err := binary.Read(zr, binary.BigEndian, dims); err != nil {
		return nil, fmt.Errorf("zootest: read %s: %w", path, err)
	}
	if int(dims[0]) < n {
		return nil, fmt.Errorf("zootest: read %s: %d items, want %d", path, dims[0], n)
	}
	per := 1
	out := &idx{}
	for i, d := range dims {
		out.dims = append(out.dims, int(d))
		if i > 0 {
			per *= int(d)
		}
	}
	out.data = make([]byte, n*per)
	if _, err := io.ReadFull(zr, out.data); err != nil {
		return nil, fmt.Errorf("zootest: read %s: %w", path, err)
	}
	return out, nil
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return buf.Bytes()
}

// Served is a model to serve and how to reach it.
type Served struct {
	Name string
	// Manifest and Store, when set, are the ZOO_MANIFEST and ZOO_STORE the
	// server and hub.Load need; empty means the defaults.
	Manifest, Store string
	// Source says where the model came from, for logs.
	Source string
}

// Env returns the ZOO_… variables that select s.
func (s Served) Env() []string {
	var env []string
	if s.Manifest != "" {
		env = append(env, "ZOO_MANIFEST="+s.Manifest)
	}
	if s.Store != "" {
		env = append(env, "ZOO_STORE="+s.Store)
	}
	return env
}

// Options returns the hub options that load s in process.
func (s Served) Options() ([]hub.Option, error) {
	if s.Manifest == "" {
		return nil, nil
	}
	m, err := hub.ReadManifest(context.Background(), s.Manifest, nil)
	if err != nil {
		return nil, err
	}
	return []hub.Option{hub.WithManifest(m), hub.WithStoreURI(s.Store)}, nil
}

// FashionModel returns the smallest Fashion-MNIST model the default
// manifest ships (weights published), or, when there is none, writes a manifest and a
// store under dir serving the PyTorch-exported fixture
// testdata/torch/lenet.onnx as "lenet_fashion_fixture" (random weights:
// about 10% accurate, enough to compare the server with the hub).
func FashionModel(dir string) (Served, error) {
	m, err := hub.DefaultManifest()
	if err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	var best *hub.Entry
	for _, e := range m.Entries() {
		if e.Dataset == "fashion_mnist" && e.Weights.SHA256 != "" && (best == nil || e.Weights.Size < best.Weights.Size) {
			best = &e
		}
	}
	if best != nil {
		return Served{Name: best.Name, Source: "shipped in the manifest (the smallest Fashion-MNIST model)"}, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return Served{}, err
	}
	onnx, err := os.ReadFile(filepath.Join(root, "testdata", "torch", "lenet.onnx"))
	if err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	store := filepath.Join(dir, "store")
	if err := os.MkdirAll(store, 0o755); err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	const name = "lenet_fashion_fixture"
	if err := os.WriteFile(filepath.Join(store, name+".onnx"), onnx, 0o644); err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	sum := sha256.Sum256(onnx)
	manifest := map[string]any{
		"schema":     1,
		"label_sets": map[string][]string{"fashion_mnist": {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}},
		"models": []any{map[string]any{
			"name": name, "arch": "lenet", "dataset": "fashion_mnist", "msda": "baseline",
			"description": "testdata/torch/lenet.onnx (PyTorch export, random weights) for zoo-serve's tests",
			"args":        map[string]any{"num_classes": 10, "nc": 1, "width": 8},
			"input": map[string]any{"shape": []int{1, 28, 28}, "mean": []float64{0.286}, "std": []float64{0.353},
				"resize": 28, "crop": 28, "interpolation": "bilinear", "scale": 255},
			"labels":   "fashion_mnist",
			"accuracy": map[string]any{"source": "none"},
			"weights":  map[string]any{"key": name + ".onnx", "format": "onnx", "sha256": hex.EncodeToString(sum[:]), "size": len(onnx)},
		}},
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	if _, err := hub.ParseManifest(data); err != nil {
		return Served{}, fmt.Errorf("zootest: fixture manifest: %w", err)
	}
	path := filepath.Join(dir, "weights.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return Served{}, fmt.Errorf("zootest: %w", err)
	}
	return Served{Name: name, Manifest: path, Store: store, Source: "testdata/torch/lenet.onnx (no shipped Fashion-MNIST model yet)"}, nil
}

// RepoRoot finds the module root (the directory of go.mod) above the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("zootest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("zootest: no go.mod above the working directory")
		}
		dir = parent
	}
}
