package server

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPreprocessBytesBoundHubAllocations: what preprocessBytes charges for
// an image is at least what hub's Preprocess (the server's) allocates for
// it, for grey and colour models, with and without a resize, and for
// images of every shape (an elongated one resizes to many rows).
func TestPreprocessBytesBoundHubAllocations(t *testing.T) {
	model := func(c, size, resize int) (*hub.Model, ModelInfo) {
		t.Helper()
		arch := "lenet"
		if c == 3 {
			arch = "preact_resnet18"
		}
		net, err := zoo.Build(arch, zoo.Args{NumClasses: 3, NC: c, Width: 4, InputSize: size})
		require.NoError(t, err)
		mean, std := make([]float64, c), make([]float64, c)
		for i := range std {
			mean[i], std[i] = 0.5, 0.25
		}
		entry, err := json.Marshal(map[string]any{"name": "p", "arch": arch,
			"args": map[string]any{"num_classes": 3, "nc": c, "width": 4, "input_size": size}, "dataset": "d",
			"input":  map[string]any{"shape": []int{c, size, size}, "mean": mean, "std": std, "resize": resize, "crop": size, "interpolation": "bilinear", "scale": 255},
			"labels": []string{"a", "b", "c"}, "accuracy": map[string]any{"source": "none"}})
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, net.ExportONNX(&buf, map[string]string{hub.MetadataEntryKey: string(entry)}))
		m, err := hub.ReadONNX(buf.Bytes())
		require.NoError(t, err)
		require.Equal(t, resize, m.Info().Input.Resize)
		return m, ModelInfo{Name: "p", Input: []int{c, size, size}, Resize: resize}
	}
	fill := func(img interface {
		image.Image
		Set(x, y int, c color.Color)
	}) image.Image {
		b := img.Bounds()
		for y := range b.Dy() {
			for x := range b.Dx() {
				img.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), 200})
			}
		}
		return img
	}
	var jbuf bytes.Buffer
	require.NoError(t, jpeg.Encode(&jbuf, fill(image.NewRGBA(image.Rect(0, 0, 900, 600))), nil))
	ycc, err := jpeg.Decode(&jbuf)
	require.NoError(t, err)
	images := map[string]image.Image{
		"nrgba64 800x600":  fill(image.NewNRGBA64(image.Rect(0, 0, 800, 600))),
		"ycbcr 900x600":    ycc,
		"grey 40x3000":     fill(image.NewGray(image.Rect(0, 0, 40, 3000))),
		"paletted 500x500": fill(image.NewPaletted(image.Rect(0, 0, 500, 500), color.Palette{color.Black, color.White})),
		"grey 10x10":       fill(image.NewGray(image.Rect(0, 0, 10, 10))),
		"grey16 300x200":   fill(image.NewGray16(image.Rect(0, 0, 300, 200))),
		"nrgba 3000x40":    fill(image.NewNRGBA(image.Rect(0, 0, 3000, 40))),
		"rgba 1x5000":      fill(image.NewRGBA(image.Rect(0, 0, 1, 5000))),
	}
	for _, mc := range []struct{ c, size, resize int }{{1, 28, 0}, {3, 32, 36}, {3, 32, 0}, {1, 28, 32}, {3, 16, 0}} {
		m, info := model(mc.c, mc.size, mc.resize)
		for name, img := range images {
			var x []float32
			var err error
			allocated := int64(testutil.LeastAllocated(3, func() { x, err = m.Preprocess(img) }))
			require.NoError(t, err)
			require.Len(t, x, info.inputSize())
			b := img.Bounds()
			charged := preprocessBytes(info, imageHeader{cfg: image.Config{ColorModel: img.ColorModel(), Width: b.Dx(), Height: b.Dy()}})
			t.Logf("%v %s: allocated %d, charged %d (%.1fx)", info.Input, name, allocated, charged, float64(charged)/float64(allocated))
			assert.LessOrEqual(t, allocated, charged, "%v resize %d, %s", info.Input, mc.resize, name)
		}
	}
}
