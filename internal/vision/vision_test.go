package vision

import (
	"image"
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

func TestResizedSize(t *testing.T) {
	tests := []struct{ h, w, n, rh, rw int }{
		{576, 768, 256, 256, 341}, // int(256*768/576) = 341.33 → 341
		{768, 576, 256, 341, 256},
		{375, 500, 256, 256, 341},
		{333, 500, 256, 256, 384}, // 384.38
		{100, 100, 256, 256, 256}, // enlarged
		{135, 181, 256, 256, 343}, // 343.23
		{28, 28, 28, 28, 28},
	}
	for _, tt := range tests {
		rh, rw := ResizedSize(tt.h, tt.w, tt.n)
		assert.Equal(t, [2]int{tt.rh, tt.rw}, [2]int{rh, rw}, "%d×%d to %d", tt.h, tt.w, tt.n)
	}
}

func TestCenterCropOffsetsRoundHalfEven(t *testing.T) {
	tests := []struct{ h, th, top int }{
		{256, 224, 16},
		{225, 224, 0}, // 0.5 → 0
		{227, 224, 2}, // 1.5 → 2
		{229, 224, 2}, // 2.5 → 2
		{231, 224, 4}, // 3.5 → 4
	}
	for _, tt := range tests {
		top, left := CenterCropOffsets(tt.h, tt.h, tt.th, tt.th)
		assert.Equal(t, tt.top, top, "h %d", tt.h)
		assert.Equal(t, tt.top, left, "w %d", tt.h)
	}
}

func TestResizeKeepsFlatImagesFlat(t *testing.T) {
	for _, size := range [][2]int{{7, 5}, {40, 90}, {1, 1}} {
		p := Planes{Pix: make([]uint8, 3*13*17), C: 3, H: 13, W: 17}
		for i := range p.Pix {
			p.Pix[i] = 200
		}
		out := Resize(p, size[0], size[1])
		require.Len(t, out.Pix, 3*size[0]*size[1])
		for _, v := range out.Pix {
			require.Equal(t, uint8(200), v)
		}
	}
}

func TestConvertLuma(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.NRGBA{255, 0, 0, 0}) // alpha dropped, not composited
	img.Set(1, 0, color.NRGBA{10, 200, 30, 255})
	p, err := Convert(img, 1)
	require.NoError(t, err)
	// (19595·255 + 0x8000) >> 16 = 76; (19595·10 + 38470·200 + 7471·30 + 0x8000) >> 16 = 124
	assert.Equal(t, []uint8{76, 124}, p.Pix)
	rgb, err := Convert(img, 3)
	require.NoError(t, err)
	assert.Equal(t, []uint8{255, 10, 0, 200, 0, 30}, rgb.Pix)
}

func TestConvertRefuses(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
		c    int
	}{
		{"nil", nil, 3},
		{"empty", image.NewGray(image.Rect(0, 0, 0, 5)), 3},
		{"channels", image.NewGray(image.Rect(0, 0, 2, 2)), 2},
	}
	for _, tt := range tests {
		_, err := Convert(tt.img, tt.c)
		assert.ErrorIs(t, err, ErrImage, tt.name)
	}
	_, err := Eval{C: 3, H: 2, W: 2, Mean: []float64{0}, Std: []float64{1}}.Apply(image.NewGray(image.Rect(0, 0, 2, 2)), nil)
	assert.Error(t, err, "one mean for three channels")
}

func TestEvalPadsSmallImages(t *testing.T) {
	// CenterCrop larger than the image pads with zeros (torchvision).
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	img.Pix[0] = 255
	out, err := Eval{C: 1, H: 3, W: 3, Mean: []float64{0}, Std: []float64{1}}.Apply(img, nil)
	require.NoError(t, err)
	// Resize 0 resizes straight to 3×3 first: no padding left.
	assert.Equal(t, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, out)
	p, err := Eval{C: 1, H: 3, W: 3, Resize: 1, Mean: []float64{0}, Std: []float64{1}}.ApplyPlanes(Planes{Pix: []uint8{255, 255}, C: 1, H: 1, W: 2}, nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 0, 0, 1, 1, 0, 0, 0, 0}, p)
}

// zoo-serve budgets Preprocess at 4·C bytes a source pixel plus the resized
// planes (internal/server preprocessBytes); a colour JPEG for a grey model
// (the worst case: RGB then luma) must stay inside it.
func TestConvertMemoryWithinServerBudget(t *testing.T) {
	const w, h = 1000, 800
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	var err error
	allocated := testutil.Allocated(func() { _, err = Convert(img, 1) })
	require.NoError(t, err)
	assert.LessOrEqual(t, allocated, uint64(4*w*h+64<<10))
}
