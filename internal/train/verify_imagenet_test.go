package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	fmixzoo "github.com/fmixzoo/zoo"
	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verify on a folder-per-synset ImageNet tree reproduces PyTorch's top-1
// and top-5 exactly: torchvision's preprocessing (through hub), the synset
// list found beside the images, the model imported from the .pt.
func TestVerifyImageNetFolder(t *testing.T) {
	tr := testutil.ReadImageNetTree[zoo.Args](t, filepath.Join("..", "..", "testdata", "torch", "preprocess"))
	ctx := context.Background()
	dir := t.TempDir()
	tr.Build(t, dir)
	syn, err := os.ReadFile(filepath.Join(tr.Dir, tr.Synsets))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "LOC_synset_mapping.txt"), syn, 0o644))

	f, size := testutil.Open(t, filepath.Join(tr.Dir, tr.PT))
	net, err := zoo.ImportPT(tr.Arch, tr.Args, f, size)
	require.NoError(t, err)
	var onnx bytes.Buffer
	require.NoError(t, net.ExportONNX(&onnx, nil))

	base, err := hub.ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)
	ref, err := base.Lookup("renset101_imagenet_baseline")
	require.NoError(t, err)
	labels := base.LabelSet(data.ImageNet)
	sum := sha256.Sum256(onnx.Bytes())
	top1, top5 := tr.Top1, tr.Top5
	e := hub.Entry{Name: "resnet18_w8_imagenet_test", Arch: tr.Arch, Args: net.Args(), Dataset: data.ImageNet, MSDA: "none",
		Input: ref.Input, LabelSet: data.ImageNet, Labels: labels,
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
