package engine

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/arena"
	"github.com/fmixzoo/zoo/internal/testutil"
)

const torchDir = "../testdata/torch"

func loadModel(t testing.TB, path string) *Model {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	m, err := Read(data)
	require.NoError(t, err)
	return m
}

// PyTorch's own ONNX exports (opset 13, dynamic batch) of every zoo
// architecture reproduce PyTorch's logits, at the recorded batch and at
// smaller batches of its rows.
func TestPyTorchGoldens(t *testing.T) {
	arena.Poison = true
	t.Cleanup(func() { arena.Poison = false })
	for _, fx := range testutil.TorchFixtures[any](t, torchDir) {
		t.Run(fx.Name, func(t *testing.T) {
			m := loadModel(t, filepath.Join(torchDir, fx.ONNX))
			x := testutil.ReadF32(t, filepath.Join(torchDir, fx.Input))
			want := testutil.ReadF32(t, filepath.Join(torchDir, fx.Logits))
			out, err := m.Run(context.Background(), Tensor{Shape: fx.InputShape, Data: x})
			require.NoError(t, err)
			require.Len(t, out, 1)
			assert.Equal(t, fx.LogitsShape, out[0].Shape)
			testutil.AssertLogits(t, want, out[0].Data)

			per, classes := len(x)/fx.InputShape[0], fx.LogitsShape[1]
			for _, b := range []int{1, 2} {
				shape := append([]int{b}, fx.InputShape[1:]...)
				out, err := m.Run(context.Background(), Tensor{Shape: shape, Data: x[:b*per]})
				require.NoError(t, err)
				testutil.AssertLogits(t, want[:b*classes], out[0].Data)
			}
			// Row by row at batch 1: one compiled plan whose recycled
			// buffers still hold the previous row's activations.
			for r := range fx.InputShape[0] {
				shape := append([]int{1}, fx.InputShape[1:]...)
				out, err := m.Run(context.Background(), Tensor{Shape: shape, Data: x[r*per : (r+1)*per]})
				require.NoError(t, err)
				testutil.AssertLogits(t, want[r*classes:(r+1)*classes], out[0].Data)
			}
		})
	}
}

// Concurrent callers with different batch sizes get exactly the serial
// results.
func TestConcurrentRuns(t *testing.T) {
	fx := testutil.TorchFixtures[any](t, torchDir)[0]
	m := loadModel(t, filepath.Join(torchDir, fx.ONNX))
	x := testutil.ReadF32(t, filepath.Join(torchDir, fx.Input))
	per := len(x) / fx.InputShape[0]
	serial := map[int][]float32{}
	for b := 1; b <= 3; b++ {
		out, err := m.Run(context.Background(), Tensor{Shape: append([]int{b}, fx.InputShape[1:]...), Data: x[:b*per]})
		require.NoError(t, err)
		serial[b] = out[0].Data
	}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for g := 0; g < 24; g++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			out, err := m.Run(context.Background(), Tensor{Shape: append([]int{b}, fx.InputShape[1:]...), Data: x[:b*per]})
			if err == nil && !assert.Equal(t, serial[b], out[0].Data) {
				err = assert.AnError
			}
			errs <- err
		}(g%3 + 1)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
