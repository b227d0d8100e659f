package hub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// torchFixture is one entry of testdata/torch/manifest.json: a small model
// exported to ONNX by PyTorch with its input and eval-mode logits.
type torchFixture struct {
	Name        string `json:"name"`
	Arch        string `json:"arch"`
	Args        Args   `json:"args"`
	InputShape  []int  `json:"input_shape"`
	LogitsShape []int  `json:"logits_shape"`
	ONNX        string `json:"onnx"`
	Input       string `json:"input"`
	Logits      string `json:"logits"`
}

const torchDir = "../testdata/torch"

func readF32(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, len(b)%4)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// TestLoadTorchFixtures loads every PyTorch-exported fixture through the hub
// (manifest entry, S3 store, cache, verify, engine) and checks its logits
// against PyTorch's.
func TestLoadTorchFixtures(t *testing.T) {
	js, err := os.ReadFile(filepath.Join(torchDir, "manifest.json"))
	require.NoError(t, err)
	var fixtures []torchFixture
	require.NoError(t, json.Unmarshal(js, &fixtures))
	require.NotEmpty(t, fixtures)

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
			x := readF32(t, filepath.Join(torchDir, f.Input))
			want := readF32(t, filepath.Join(torchDir, f.Logits))
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
