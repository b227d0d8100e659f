package hub

import (
	"bytes"
	"context"
	"image"
	"testing"

	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A zoo network that pools globally is exported with a dynamic H×W; without
// an entry in its metadata ReadONNX takes H×W from the zoo arguments'
// input_size, so every ONNX the project writes opens on its own.
func TestReadONNXTakesSizeFromZooArgs(t *testing.T) {
	for _, tc := range []struct {
		arch string
		args zoo.Args
		want []int
	}{
		{"preact_resnet18", zoo.Args{Width: 4, InputSize: 16}, []int{3, 16, 16}},
		{"preact_resnet18", zoo.Args{Width: 4, NC: 1, InputSize: 28}, []int{1, 28, 28}},
		{"lenet", zoo.Args{}, []int{1, 28, 28}},
	} {
		net, err := zoo.Build(tc.arch, tc.args)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, net.ExportONNX(&buf, nil))
		m, err := ReadONNX(buf.Bytes())
		require.NoError(t, err, tc.arch)
		assert.Equal(t, tc.want, m.Info().Input.Shape, tc.arch)
		x, err := m.Preprocess(flatImage(40, 30))
		require.NoError(t, err)
		assert.Len(t, x, tc.want[0]*tc.want[1]*tc.want[2])
	}
}

func flatImage(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	return img
}

// The upstream converter (hub.Load of a published name, zoo-train pull)
// writes ONNX that opens on its own, with the entry's input shape.
func TestUpstreamConversionOpensWithReadONNX(t *testing.T) {
	fixtures := publishedFixtures(t)
	m := upstreamManifest(t, fixtures)
	up := newUpstream(t)
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	for _, fx := range fixtures {
		up.files["/models/"+fx.Name+"_0.pt"] = fx.Name + ".pt"
	}
	for _, fx := range fixtures {
		e, err := m.Lookup(fx.Name + "_published")
		require.NoError(t, err)
		data, err := ImportPyTorch(context.Background(), e, ImportEnv{Cache: cache, Upstream: UpstreamOptions{Base: up.URL}})
		require.NoError(t, err, e.Name)
		model, err := ReadONNX(data)
		require.NoError(t, err, e.Name)
		assert.Equal(t, e.Input.Shape, model.Info().Input.Shape, e.Name)
		assert.Equal(t, e.Name, model.Info().Name)
	}
}
