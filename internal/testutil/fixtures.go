package testutil

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TorchFixture is one entry of testdata/torch/manifest.json (written by
// testdata/torch/gen.py): a small network of one architecture, its
// state dict in both serialisations, PyTorch's ONNX export, and an input
// batch with its eval-mode logits. File names are relative to the
// manifest's directory. A is the type the zoo arguments decode into
// (zoo.Args where the test can import zoo).
type TorchFixture[A any] struct {
	Name          string `json:"name"`
	Arch          string `json:"arch"`
	Args          A      `json:"args"`
	InputShape    []int  `json:"input_shape"`
	LogitsShape   []int  `json:"logits_shape"`
	Params        int    `json:"params"`          // trainable parameters (PyTorch's numel sum)
	StateDictKeys int    `json:"state_dict_keys"` // entries of the state dict
	ONNX          string `json:"onnx"`
	Input         string `json:"input"`     // float32, InputShape
	Logits        string `json:"logits"`    // float32, LogitsShape
	PT            string `json:"pt"`        // torch.save's zip format
	LegacyPT      string `json:"legacy_pt"` // the legacy (pre-1.6) format
	// Variants are the state dict saved again under wrappers
	// ({'state_dict': sd}, {'model': sd}, 'module.' prefixes).
	Variants []struct {
		Wrapper, File, Format string
	} `json:"variants"`
	// TensorCheck names one tensor of the state dict dumped raw to File.
	TensorCheck *struct {
		Key   string `json:"key"`
		Shape []int  `json:"shape"`
		File  string `json:"file"`
	} `json:"tensor_check"`
}

// TorchFixtures reads dir/manifest.json (dir: testdata/torch as the test
// reaches it) and requires at least one entry.
func TorchFixtures[A any](t testing.TB, dir string) []TorchFixture[A] {
	t.Helper()
	fx := ReadJSON[[]TorchFixture[A]](t, filepath.Join(dir, "manifest.json"))
	require.NotEmpty(t, fx, "no fixtures in %s", dir)
	return fx
}

// ReadJSON decodes the JSON file at path into a T.
func ReadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v T
	require.NoError(t, json.Unmarshal(b, &v), path)
	return v
}

// ReadF32 reads a file of little-endian float32s, the fixtures' raw tensor
// format (numpy's tofile).
func ReadF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, len(b)%4, "%s: %d bytes is not a whole number of float32s", path, len(b))
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// AssertLogits holds got to PyTorch's want the way every parity test does:
// each value within 1e-4 of the largest |want| (at least 1). It logs the
// largest difference.
func AssertLogits(t testing.TB, want, got []float32) {
	t.Helper()
	require.Len(t, got, len(want))
	m := float32(1)
	for _, v := range want {
		m = max(m, float32(math.Abs(float64(v))))
	}
	var worst float64
	for i := range want {
		assert.InDelta(t, want[i], got[i], float64(1e-4*m), "logit %d", i)
		worst = max(worst, math.Abs(float64(want[i]-got[i])))
	}
	t.Logf("max |Δlogit| %.3g (tolerance %.3g, max |logit| %.3g)", worst, 1e-4*m, m)
}
