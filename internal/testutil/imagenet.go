package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ImageNetTree is testdata/torch/preprocess/imagenet_tree.json (written by
// testdata/torch/gen_preprocess.py): a folder-per-synset tree of the real
// JPEGs in inputs/ and what PyTorch's ResNet-18 (width 8, 1000 classes)
// predicts on them through torchvision's transforms. File names are
// relative to Dir. A is the type the zoo arguments decode into (zoo.Args
// where the test can import zoo).
type ImageNetTree[A any] struct {
	Arch    string              `json:"arch"`
	Args    A                   `json:"args"`
	PT      string              `json:"pt"`      // the model's state dict
	Synsets string              `json:"synsets"` // the 1000 ILSVRC-2012 WordNet ids, in order
	Tree    map[string][]string `json:"tree"`    // synset → the files of inputs/ in its folder
	Top1    float64             `json:"top1"`
	Top5    float64             `json:"top5"`
	Images  []struct {
		File  string `json:"file"`
		Class int    `json:"class"` // index in the synset list
	} `json:"images"`
	// Dir is the directory the fixture was read from.
	Dir string `json:"-"`
}

// ReadImageNetTree reads dir/imagenet_tree.json (dir: testdata/torch/preprocess
// as the test reaches it).
func ReadImageNetTree[A any](t testing.TB, dir string) ImageNetTree[A] {
	t.Helper()
	tr := ReadJSON[ImageNetTree[A]](t, filepath.Join(dir, "imagenet_tree.json"))
	tr.Dir = dir
	return tr
}

// Build lays the fixture's JPEGs out as root/val/SYNSET/NAME.JPEG, the
// layout of ImageNet's validation set sorted into synset folders.
func (tr ImageNetTree[A]) Build(t testing.TB, root string) {
	t.Helper()
	for syn, files := range tr.Tree {
		require.NoError(t, os.MkdirAll(filepath.Join(root, "val", syn), 0o755))
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(tr.Dir, "inputs", f))
			require.NoError(t, err)
			name := strings.TrimSuffix(f, filepath.Ext(f)) + ".JPEG"
			require.NoError(t, os.WriteFile(filepath.Join(root, "val", syn, name), b, 0o644))
		}
	}
}
