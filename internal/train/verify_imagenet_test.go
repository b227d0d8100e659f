package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fmixzoo "github.com/fmixzoo/zoo"
	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var preprocessDir = filepath.Join("..", "..", "testdata", "torch", "preprocess")

// imagenetTree is testdata/torch/preprocess/imagenet_tree.json, written by
// gen_preprocess.py: a folder-per-synset tree of real JPEGs and what
// PyTorch's ResNet-18 (width 8, 1000 classes) predicts on them through
// torchvision's transforms.
type imagenetTree struct {
	Arch    string              `json:"arch"`
	Args    zoo.Args            `json:"args"`
	PT      string              `json:"pt"`
	Synsets string              `json:"synsets"`
	Tree    map[string][]string `json:"tree"`
	Top1    float64             `json:"top1"`
	Top5    float64             `json:"top5"`
	Images  []struct {
		File  string `json:"file"`
		Class int    `json:"class"`
	} `json:"images"`
}

func loadImagenetTree(t *testing.T) imagenetTree {
	t.Helper()
	return testutil.ReadJSON[imagenetTree](t, filepath.Join(preprocessDir, "imagenet_tree.json"))
}

// buildTree lays the fixture's JPEGs out as dir/val/SYNSET/NAME.JPEG.
func (tr imagenetTree) buildTree(t *testing.T, dir string) {
	t.Helper()
	for syn, files := range tr.Tree {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "val", syn), 0o755))
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(preprocessDir, "inputs", f))
			require.NoError(t, err)
			name := strings.TrimSuffix(f, filepath.Ext(f)) + ".JPEG"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "val", syn, name), data, 0o644))
		}
	}
}

func TestOpenSynsetFolderMapsByList(t *testing.T) {
	tr := loadImagenetTree(t)
	dir := t.TempDir()
	tr.buildTree(t, dir)
	synsets, err := ReadSynsets(filepath.Join(preprocessDir, tr.Synsets))
	require.NoError(t, err)
	require.Len(t, synsets, 1000)
	assert.Equal(t, "n01440764", synsets[0])
	ds, err := OpenSynsetFolder(filepath.Join(dir, "val"), synsets)
	require.NoError(t, err)
	assert.Equal(t, 1000, ds.NumClasses())
	require.Equal(t, len(tr.Images), ds.Len())
	want := map[int]int{}
	for _, im := range tr.Images {
		want[im.Class]++
	}
	got := map[int]int{}
	for i := range ds.Len() {
		ex, err := ds.Example(i)
		require.NoError(t, err)
		got[ex.Label]++
	}
	assert.Equal(t, want, got, "labels are the folders' indices in the synset list (1, 2, 500, 999), not 0-3")

	// A folder outside the list, a list out of order, no list at all.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "val", "n99999999"), 0o755))
	_, err = OpenSynsetFolder(filepath.Join(dir, "val"), synsets)
	assert.ErrorContains(t, err, `"n99999999" is not in the synset list`)
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("n01443537 goldfish\nn01440764 tench\n"), 0o644))
	_, err = ReadSynsets(bad)
	assert.ErrorContains(t, err, "ascending order")
	require.NoError(t, os.WriteFile(bad, []byte("tench\n"), 0o644))
	_, err = ReadSynsets(bad)
	assert.ErrorContains(t, err, "not a WordNet id")
	_, err = OpenImageNetVal(dir, "")
	assert.ErrorContains(t, err, "pass --synsets FILE")
	flat := filepath.Join(dir, "flat")
	require.NoError(t, os.MkdirAll(flat, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(flat, "ILSVRC2012_val_00000001.JPEG"), []byte("x"), 0o644))
	_, err = OpenSynsetFolder(flat, synsets)
	assert.ErrorContains(t, err, "sort them into one folder per synset")
	assert.ErrorIs(t, err, ErrDataset)
}

// Verify on a folder-per-synset ImageNet tree reproduces PyTorch's top-1
// and top-5 exactly: torchvision's preprocessing (through hub), the synset
// list found beside the images, the model imported from the .pt.
func TestVerifyImageNetFolder(t *testing.T) {
	tr := loadImagenetTree(t)
	ctx := context.Background()
	dir := t.TempDir()
	tr.buildTree(t, dir)
	syn, err := os.ReadFile(filepath.Join(preprocessDir, tr.Synsets))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "LOC_synset_mapping.txt"), syn, 0o644))

	f, size := testutil.Open(t, filepath.Join(preprocessDir, tr.PT))
	net, err := zoo.ImportPT(tr.Arch, tr.Args, f, size)
	require.NoError(t, err)
	var onnx bytes.Buffer
	require.NoError(t, net.ExportONNX(&onnx, nil))

	base, err := hub.ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)
	ref, err := base.Lookup("renset101_imagenet_baseline")
	require.NoError(t, err)
	labels := base.LabelSet(ImageNet)
	sum := sha256.Sum256(onnx.Bytes())
	top1, top5 := tr.Top1, tr.Top5
	e := hub.Entry{Name: "resnet18_w8_imagenet_test", Arch: tr.Arch, Args: net.Args(), Dataset: ImageNet, MSDA: "none",
		Input: ref.Input, LabelSet: ImageNet, Labels: labels,
		Accuracy: hub.Accuracy{Top1: &top1, Top5: &top5, Source: "paper"},
		Weights:  hub.Weights{Key: "resnet18_w8_imagenet_test.onnx", Format: "onnx", SHA256: hex.EncodeToString(sum[:]), Size: int64(onnx.Len())}}
	store := filepath.Join(dir, "store")
	require.NoError(t, os.MkdirAll(store, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(store, e.Weights.Key), onnx.Bytes(), 0o644))
	manifest := filepath.Join(dir, "weights.json")
	require.NoError(t, os.WriteFile(manifest, fmixzoo.Manifest, 0o644))
	require.NoError(t, hub.UpsertManifestEntry(manifest, e))
	m, err := hub.ReadManifest(ctx, manifest, nil)
	require.NoError(t, err)

	var progress bytes.Buffer
	rows, err := Verify(ctx, VerifyOptions{Manifest: m, Patterns: []string{e.Name}, DataDir: dir, Progress: &progress,
		Load: []hub.Option{hub.WithStoreURI("file://" + store), hub.WithCache(t.TempDir()), hub.WithProgress(nil)}})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	assert.Equal(t, VerdictPass, r.Verdict, r.Reason)
	assert.Equal(t, len(tr.Images), r.Images)
	assert.InDelta(t, tr.Top1, r.Top1, 1e-9, "top-1 as PyTorch computed it")
	assert.InDelta(t, tr.Top5, r.Top5, 1e-9, "top-5 as PyTorch computed it")
	assert.Greater(t, r.ImagesPerSec, 0.0)
	var table bytes.Buffer
	require.NoError(t, WriteVerifyTable(&table, rows))
	assert.Contains(t, table.String(), "img/s")
}

func TestEvalMeterDrawsBar(t *testing.T) {
	var buf bytes.Buffer
	m := newEvalMeter(&buf, "r18")
	m.Terminal = true
	m.update(50, 200, 25, 40)
	assert.Contains(t, buf.String(), "r18 [======                  ] 50/200  top-1 50.00  top-5 80.00")
	assert.Contains(t, buf.String(), "img/s  ETA")
	var none *evalMeter
	none.update(1, 2, 0, 0) // a nil meter draws nothing
}
