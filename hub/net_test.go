package hub

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LoadNet rebuilds a shipped model's network from its ONNX weights: the
// same logits as the engine running the ONNX graph, and a Grad-CAM.
func TestLoadNetShippedLeNet(t *testing.T) {
	const name = "lenet_fashion_fmix"
	opts := []Option{WithStoreURI(DefaultStoreURI), WithCache(t.TempDir()), WithProgress(nil)}
	m, err := Load(name, opts...)
	require.NoError(t, err)
	n, err := LoadNet(context.Background(), name, opts...)
	require.NoError(t, err)
	assert.Equal(t, "lenet", n.Arch())
	assert.Equal(t, "conv2", n.CAMLayer())

	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 2*28*28)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	out, err := m.Run(context.Background(), Tensor{Shape: []int{2, 1, 28, 28}, Data: x})
	require.NoError(t, err)
	got, err := n.Forward(x, 2)
	require.NoError(t, err)
	require.Len(t, got, len(out[0].Data))
	for i := range got {
		assert.InDelta(t, out[0].Data[i], got[i], 1e-3*math.Max(1, math.Abs(float64(got[i]))), "logit %d", i)
	}
	cams, err := n.GradCAM(x, 2, zoo.CAMOptions{})
	require.NoError(t, err)
	require.Len(t, cams, 2)
	assert.Len(t, cams[0].Map, 28*28)
}

func TestLoadNetRefuses(t *testing.T) {
	_, err := LoadNet(context.Background(), "no_such_model", WithStoreURI(DefaultStoreURI), WithCache(t.TempDir()))
	require.ErrorIs(t, err, ErrUnknownModel)

	// A torch.onnx.export file served under a manifest name: no zoo metadata.
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "torch", "lenet.onnx"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lenet.onnx"), data, 0o644))
	e := testEntry("torch_lenet", "lenet.onnx", data, 1, 28, 28, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
	e.Arch, e.Args = "lenet", Args{NumClasses: 10, NC: 1, Width: 8}
	m := manifestOf(t, e)
	_, err = LoadNet(context.Background(), "torch_lenet", WithManifest(m), WithStoreURI("file://"+dir), WithCache(t.TempDir()), WithProgress(nil))
	require.ErrorIs(t, err, zoo.ErrNotZooONNX)
}
