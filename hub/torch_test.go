package hub

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// torchFixture is one entry of testdata/torch/manifest.json.
type torchFixture = testutil.TorchFixture[Args]

const torchDir = "../testdata/torch"

// TestLoadTorchFixtures loads every PyTorch-exported fixture through the hub
// (manifest entry, S3 store, cache, verify, engine) and checks its logits
// against PyTorch's.
func TestLoadTorchFixtures(t *testing.T) {
	fixtures := testutil.TorchFixtures[Args](t, torchDir)

	v := startVersity(t)
	var entries []Entry
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join(torchDir, f.ONNX))
		require.NoError(t, err)
		v.put(t, "torch/"+f.ONNX, data)
		labels := make([]string, f.LogitsShape[1])
		e := testEntry(f.Name, f.ONNX, data, f.InputShape[1], f.InputShape[2], f.InputShape[3], labels)
		e.Arch, e.Args = f.Arch, f.Args
		entries = append(entries, e)
	}
	m := manifestOf(t, entries...)
	store := v.store(t, "torch")
	cache := t.TempDir()
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			model, err := Load(f.Name, WithManifest(m), WithStore(store), WithCache(cache), WithOffline(false))
			require.NoError(t, err)
			x := testutil.ReadF32(t, filepath.Join(torchDir, f.Input))
			want := testutil.ReadF32(t, filepath.Join(torchDir, f.Logits))
			out, err := model.Run(context.Background(), Tensor{Shape: f.InputShape, Data: x})
			require.NoError(t, err)
			require.Len(t, out, 1)
			assert.Equal(t, f.LogitsShape, out[0].Shape)
			require.Len(t, out[0].Data, len(want))
			for i := range want {
				assert.InDelta(t, want[i], out[0].Data[i], 1e-4+1e-4*math.Abs(float64(want[i])), "logit %d", i)
			}
		})
	}
}
