package heatmap

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJet(t *testing.T) {
	for _, tc := range []struct {
		v    float32
		want color.RGBA
	}{
		{0, color.RGBA{0, 0, 128, 255}},
		{0.5, color.RGBA{128, 255, 128, 255}},
		{1, color.RGBA{128, 0, 0, 255}},
		{-3, color.RGBA{0, 0, 0, 255}},
	} {
		assert.Equal(t, tc.want, Jet(tc.v), "v=%g", tc.v)
	}
}

func TestInput(t *testing.T) {
	// One RGB pixel normalised with mean 0.5 and std 0.25: (p-0.5)/0.25.
	x := []float32{(1 - 0.5) / 0.25, (0 - 0.5) / 0.25, (0.5 - 0.5) / 0.25}
	img := Input(x, 3, 1, 1, []float64{0.5, 0.5, 0.5}, []float64{0.25, 0.25, 0.25})
	assert.Equal(t, color.RGBA{255, 0, 128, 255}, img.RGBAAt(0, 0))

	// Grey without statistics: stretched to [0, 255].
	g := Input([]float32{-3, 1}, 1, 1, 2, nil, nil)
	assert.Equal(t, color.RGBA{0, 0, 0, 255}, g.RGBAAt(0, 0))
	assert.Equal(t, color.RGBA{255, 255, 255, 255}, g.RGBAAt(1, 0))
}

func TestOverlayAndLayout(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	copy(img.Pix, []uint8{100, 100, 100, 255, 100, 100, 100, 255})
	o := Overlay(img, []float32{0, 1}, 0.5)
	assert.Equal(t, color.RGBA{50, 50, 114, 255}, o.RGBAAt(0, 0))
	assert.Equal(t, color.RGBA{114, 50, 50, 255}, o.RGBAAt(1, 0))

	row := Row(4, 2, img, o)
	require.Equal(t, image.Rect(0, 0, 8+2+8, 4), row.Bounds())
	assert.Equal(t, o.RGBAAt(1, 0), row.RGBAAt(10+7, 3))
	col := Column(1, row, row)
	assert.Equal(t, image.Rect(0, 0, 18, 9), col.Bounds())
	assert.Equal(t, color.RGBA{255, 255, 255, 255}, col.RGBAAt(0, 4), "gap")
}
