package train

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fmixzoo "github.com/fmixzoo/zoo"
	"github.com/fmixzoo/zoo/hub"
)

func fashionEntry(name string, top1 float64) hub.Entry {
	top5 := 99.5
	return hub.Entry{
		Name: name, Arch: "lenet", Args: hub.Args{NumClasses: 10, NC: 1}, Dataset: FashionMNIST, MSDA: "fmix",
		Input: hub.Input{Shape: []int{1, 28, 28}, Mean: []float64{0.1307}, Std: []float64{0.3081}, Resize: 28, Crop: 28,
			Interpolation: "bilinear", Scale: 255},
		Accuracy: hub.Accuracy{Top1: &top1, Top5: &top5, Source: "measured", Provenance: `a "quoted" {brace}`},
		Weights:  hub.Weights{Key: name + ".onnx", Format: "onnx", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Size: 10},
	}
}

func TestUpsertManifestEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weights.json")
	require.NoError(t, os.WriteFile(path, fmixzoo.Manifest, 0o644))
	before, err := hub.ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)

	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_fmix", 90.1), FashionMNIST))
	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_mixup", 89), FashionMNIST))
	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_fmix", 91.25), FashionMNIST))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := hub.ParseManifest(data)
	require.NoError(t, err)
	assert.Len(t, m.Entries(), len(before.Entries())+2, "replacing keeps one entry per name")
	e, err := m.Lookup("testnet_fashion_fmix")
	require.NoError(t, err)
	assert.Equal(t, 91.25, *e.Accuracy.Top1)
	assert.Equal(t, FashionMNIST, e.LabelSet)
	assert.Len(t, e.Labels, 10)
	assert.Contains(t, string(data), `"mean": [0.1307]`, "number arrays stay on one line")
	// Everything else is byte for byte what it was.
	assert.Equal(t, string(fmixzoo.Manifest[:len(fmixzoo.Manifest)-8]), string(data[:len(fmixzoo.Manifest)-8]))
	for _, old := range before.Entries() {
		got, err := m.Lookup(old.Name)
		require.NoError(t, err)
		assert.Equal(t, old, got)
	}
}

func TestUpsertManifestEntryRejectsInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weights.json")
	require.NoError(t, os.WriteFile(path, fmixzoo.Manifest, 0o644))
	bad := fashionEntry("lenet_fashion_fmix", 90)
	bad.Accuracy.Source = "guessed"
	require.Error(t, UpsertManifestEntry(path, bad, FashionMNIST))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, fmixzoo.Manifest, data, "a failed update leaves the file alone")

	require.NoError(t, os.WriteFile(path, []byte(`{"schema": 1}`), 0o644))
	assert.Error(t, UpsertManifestEntry(path, fashionEntry("x", 1), ""))
}

func TestTally(t *testing.T) {
	var ta tally
	logits := []float32{
		0, 5, 1, 2, 3, 4, // label 1: top-1
		5, 4, 3, 2, 1, 0, // label 4: rank 4 → top-5
		5, 4, 3, 2, 1, 0, // label 5: rank 5 → miss
		1, 1, 1, 1, 1, 1, // label 2: ties, rank 2
	}
	require.NoError(t, ta.add(logits, []int{1, 4, 5, 2}, 6))
	r := ta.result()
	assert.Equal(t, 25.0, r.Top1)
	assert.Equal(t, 75.0, r.Top5)
	assert.Equal(t, 4, r.Images)
	assert.Error(t, ta.add(logits, []int{1}, 6))
	assert.Error(t, ta.add(logits[:6], []int{9}, 6))
}
