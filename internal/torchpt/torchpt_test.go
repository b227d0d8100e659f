package torchpt

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

const fixtures = "../../testdata/torch"

type fault struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Kind   string `json:"kind"`
	Expect string `json:"expect"`
}

func readFile(t testing.TB, name string) map[string]Tensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	require.NoError(t, err)
	m, err := Read(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err, name)
	return m
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// TestReadFixtures: both serializations of every architecture fixture decode
// to the same tensors, with the key count and parameter count PyTorch reported.
func TestReadFixtures(t *testing.T) {
	for _, e := range testutil.TorchFixtures[map[string]any](t, fixtures) {
		t.Run(e.Name, func(t *testing.T) {
			zipped := readFile(t, e.PT)
			legacy := readFile(t, e.LegacyPT)
			assert.Equal(t, zipped, legacy, "zip and legacy serializations differ")
			assert.Len(t, zipped, e.StateDictKeys)
			params := 0
			for k, v := range zipped {
				assert.Len(t, v.Data, numel(v.Shape), k)
				switch {
				case strings.HasSuffix(k, ".num_batches_tracked"):
					assert.Equal(t, "int64", v.DType, k)
					assert.Empty(t, v.Shape, k)
				case strings.HasSuffix(k, ".running_mean"), strings.HasSuffix(k, ".running_var"):
					assert.Equal(t, "float32", v.DType, k)
				default:
					assert.Equal(t, "float32", v.DType, k)
					params += len(v.Data)
				}
			}
			assert.Equal(t, e.Params, params, "trainable parameter count")
		})
	}
}

// TestTensorValues compares one decoded tensor with PyTorch's raw dump.
func TestTensorValues(t *testing.T) {
	checked := 0
	for _, e := range testutil.TorchFixtures[map[string]any](t, fixtures) {
		if e.TensorCheck == nil {
			continue
		}
		want := testutil.ReadF32(t, filepath.Join(fixtures, e.TensorCheck.File))
		for _, f := range []string{e.PT, e.LegacyPT} {
			got, ok := readFile(t, f)[e.TensorCheck.Key]
			require.True(t, ok, "%s lacks %s", f, e.TensorCheck.Key)
			assert.Equal(t, e.TensorCheck.Shape, got.Shape)
			assert.Equal(t, want, got.Data)
		}
		checked++
	}
	require.Positive(t, checked, "no fixture carries a tensor_check")
}

// TestDTypes covers every storage type, scalars, empty tensors, Parameters
// and views (transposed, offset, strided, stride-0) in both formats.
func TestDTypes(t *testing.T) {
	meta := testutil.ReadJSON[[]struct {
		Key    string `json:"key"`
		Shape  []int  `json:"shape"`
		DType  string `json:"dtype"`
		Offset int    `json:"offset"`
		Numel  int    `json:"numel"`
	}](t, filepath.Join(fixtures, "dtypes.json"))
	want := testutil.ReadF32(t, filepath.Join(fixtures, "dtypes.expect.f32"))
	for _, file := range []string{"dtypes.pt", "dtypes.legacy.pt"} {
		t.Run(file, func(t *testing.T) {
			m := readFile(t, file)
			require.Len(t, m, len(meta))
			for _, tm := range meta {
				got, ok := m[tm.Key]
				require.True(t, ok, tm.Key)
				assert.Equal(t, tm.DType, got.DType, tm.Key)
				assert.Equal(t, len(tm.Shape), len(got.Shape), tm.Key)
				if len(tm.Shape) > 0 {
					assert.Equal(t, tm.Shape, got.Shape, tm.Key)
				}
				assert.Equal(t, want[tm.Offset:tm.Offset+tm.Numel], got.Data, tm.Key)
			}
		})
	}
}

// TestWrappers: {'state_dict': sd}, {'model': sd} and 'module.' prefixes
// decode to the plain state dict.
func TestWrappers(t *testing.T) {
	n := 0
	for _, e := range testutil.TorchFixtures[map[string]any](t, fixtures) {
		if len(e.Variants) == 0 {
			continue
		}
		plain := readFile(t, e.PT)
		for _, v := range e.Variants {
			t.Run(v.File, func(t *testing.T) {
				assert.Equal(t, plain, readFile(t, v.File))
			})
			n++
		}
	}
	require.GreaterOrEqual(t, n, 3)
}

// TestFaults: the fault fixtures are refused with the right sentinel, or,
// for key-level faults (the importer's business), decode as written.
func TestFaults(t *testing.T) {
	faults := testutil.ReadJSON[[]fault](t, filepath.Join(fixtures, "faults.json"))
	require.NotEmpty(t, faults)
	for _, f := range faults {
		t.Run(f.File, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, f.File))
			require.NoError(t, err)
			m, err := Read(bytes.NewReader(b), int64(len(b)))
			switch f.Kind {
			case "code_execution":
				require.ErrorIs(t, err, ErrForbidden)
				var fe *ForbiddenError
				require.True(t, errors.As(err, &fe))
				assert.Equal(t, f.Expect, fe.Module+"."+fe.Name)
				assert.Contains(t, err.Error(), f.Expect)
				assert.Nil(t, m)
			case "not_state_dict":
				require.ErrorIs(t, err, ErrNotStateDict)
				assert.Contains(t, err.Error(), "list")
			case "not_torch":
				require.ErrorIs(t, err, ErrNotTorch)
				assert.Contains(t, err.Error(), f.Expect)
			case "missing_key":
				require.NoError(t, err)
				assert.NotContains(t, m, f.Expect)
				assert.NotEmpty(t, m)
			case "misshaped_key":
				require.NoError(t, err)
				require.Contains(t, m, f.Expect)
				assert.Equal(t, 7, m[f.Expect].Shape[0])
			case "unexpected_key":
				require.NoError(t, err)
				assert.Contains(t, m, f.Expect)
			default:
				t.Fatalf("unknown fault kind %q", f.Kind)
			}
		})
	}
}

func TestHalfToFloat(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0001, 5.9604645e-08}, // smallest subnormal
		{0x8001, -5.9604645e-08},
		{0x03ff, 6.097555e-05}, // largest subnormal
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, halfToFloat(tt.h), "0x%04x", tt.h)
	}
	assert.True(t, math.IsNaN(float64(halfToFloat(0x7e00))))
}
