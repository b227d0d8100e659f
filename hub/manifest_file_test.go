package hub

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fmixzoo "github.com/fmixzoo/zoo"
)

// fashionEntry is a measured Fashion-MNIST entry whose labels refer to the
// manifest's fashion_mnist label set.
func fashionEntry(name string, top1 float64) Entry {
	top5 := 99.5
	return Entry{
		Name: name, Arch: "lenet", Args: Args{NumClasses: 10, NC: 1}, Dataset: "fashion_mnist", MSDA: "fmix",
		Input: Input{Shape: []int{1, 28, 28}, Mean: []float64{0.1307}, Std: []float64{0.3081}, Resize: 28, Crop: 28,
			Interpolation: "bilinear", Scale: 255},
		LabelSet: "fashion_mnist",
		Accuracy: Accuracy{Top1: &top1, Top5: &top5, Source: "measured", Provenance: `a "quoted" {brace}`},
		Weights:  Weights{Key: name + ".onnx", Format: "onnx", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Size: 10},
	}
}

func TestUpsertManifestEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weights.json")
	require.NoError(t, os.WriteFile(path, fmixzoo.Manifest, 0o644))
	before, err := ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)

	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_fmix", 90.1)))
	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_mixup", 89)))
	require.NoError(t, UpsertManifestEntry(path, fashionEntry("testnet_fashion_fmix", 91.25)))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := ParseManifest(data)
	require.NoError(t, err)
	assert.Len(t, m.Entries(), len(before.Entries())+2, "replacing keeps one entry per name")
	e, err := m.Lookup("testnet_fashion_fmix")
	require.NoError(t, err)
	assert.Equal(t, 91.25, *e.Accuracy.Top1)
	assert.Equal(t, "fashion_mnist", e.LabelSet)
	assert.Len(t, e.Labels, 10)
	assert.Contains(t, string(data), `"labels": "fashion_mnist"`, "labels are written as the label-set reference")
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
	require.Error(t, UpsertManifestEntry(path, bad))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, fmixzoo.Manifest, data, "a failed update leaves the file alone")

	require.NoError(t, os.WriteFile(path, []byte(`{"schema": 1}`), 0o644))
	noSet := fashionEntry("x", 1)
	noSet.LabelSet = ""
	assert.Error(t, UpsertManifestEntry(path, noSet))
}

func TestManifestLabelSet(t *testing.T) {
	m, err := ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)
	labels := m.LabelSet("fashion_mnist")
	require.Len(t, labels, 10)
	assert.Equal(t, "T-shirt/top", labels[0])
	labels[0] = "changed"
	assert.Equal(t, "T-shirt/top", m.LabelSet("fashion_mnist")[0], "the caller gets a copy")
	assert.Nil(t, m.LabelSet("no_such_set"))
}
