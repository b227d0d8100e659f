package hub

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func input(c, h, w, resize int) Input {
	mean, std := make([]float64, c), make([]float64, c)
	for i := range std {
		std[i] = 1
	}
	return Input{Shape: []int{c, h, w}, Mean: mean, Std: std, Resize: resize, Interpolation: "bilinear", Scale: 1}
}

func TestPreprocessValues(t *testing.T) {
	// A 4×2 RGBA image, one colour per column pair.
	rgba := image.NewNRGBA(image.Rect(10, 20, 14, 22)) // a non-zero origin
	for y := 20; y < 22; y++ {
		for x := 10; x < 14; x++ {
			rgba.Set(x, y, color.NRGBA{R: uint8(10 * (x - 9)), G: 100, B: uint8(200 + y - 20), A: 255})
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(gray.Pix, []uint8{0, 50, 100, 150})

	tests := []struct {
		name string
		img  image.Image
		in   Input
		want []float32
	}{
		{"identity RGB", rgba, input(3, 2, 4, 0), []float32{
			10, 20, 30, 40, 10, 20, 30, 40,
			100, 100, 100, 100, 100, 100, 100, 100,
			200, 200, 200, 200, 201, 201, 201, 201}},
		// PIL's convert("L"): (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
		{"grey luma", rgba, input(1, 2, 4, 0), []float32{84, 87, 90, 93, 85, 88, 91, 94}},
		{"2x2 to 1x1 averages", gray, input(1, 1, 1, 0), []float32{75}},
		{"centre crop of resize", rgba, input(3, 2, 2, 2), []float32{20, 30, 20, 30, 100, 100, 100, 100, 200, 200, 201, 201}},
		{"grey image to RGB", gray, input(3, 2, 2, 0), []float32{0, 50, 100, 150, 0, 50, 100, 150, 0, 50, 100, 150}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := preprocess(tt.img, tt.in, nil)
			require.NoError(t, err)
			require.Len(t, got, len(tt.want))
			for i := range got {
				assert.InDelta(t, tt.want[i], got[i], 1e-3, "value %d", i)
			}
		})
	}
}

func TestPreprocessNormalises(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	in := Input{Shape: []int{3, 8, 8}, Mean: []float64{0.5, 0.25, 0}, Std: []float64{0.5, 0.25, 2},
		Resize: 10, Crop: 8, Interpolation: "bilinear", Scale: 255}
	got, err := preprocess(img, in, nil)
	require.NoError(t, err)
	require.Len(t, got, 3*64)
	for c, want := range []float32{1, 3, 0.5} {
		for _, v := range got[c*64 : (c+1)*64] {
			assert.InDelta(t, want, v, 1e-5)
		}
	}
}

func TestPreprocessRejects(t *testing.T) {
	_, err := preprocess(nil, input(1, 2, 2, 0), nil)
	assert.ErrorIs(t, err, ErrImage)
	_, err = preprocess(image.NewGray(image.Rect(0, 0, 0, 5)), input(1, 2, 2, 0), nil)
	assert.ErrorIs(t, err, ErrImage)
}

func TestTopK(t *testing.T) {
	labels := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		logits  []float32
		labels  []string
		k       int
		want    []int
		wantLab []string
	}{
		{"top1", []float32{1, 3, 2}, labels, 1, []int{1}, []string{"b"}},
		{"all by k=0", []float32{1, 3, 2}, labels, 0, []int{1, 2, 0}, []string{"b", "c", "a"}},
		{"k clamped", []float32{1, 3, 2}, labels, 10, []int{1, 2, 0}, nil},
		{"ties by index", []float32{5, 5, 5}, labels, 3, []int{0, 1, 2}, nil},
		{"missing labels", []float32{0, 9}, nil, 1, []int{1}, []string{"1"}},
		{"huge logits stay finite", []float32{1000, 999, -1000}, labels, 2, []int{0, 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TopK(tt.logits, tt.labels, tt.k)
			require.Len(t, got, len(tt.want))
			for i, p := range got {
				assert.Equal(t, tt.want[i], p.Index)
				assert.False(t, math.IsNaN(p.Probability))
				if tt.wantLab != nil {
					assert.Equal(t, tt.wantLab[i], p.Label)
				}
			}
		})
	}
	all := TopK([]float32{0.5, -1, 2, 0}, nil, 0)
	var sum float64
	for _, p := range all {
		sum += p.Probability
	}
	assert.InDelta(t, 1, sum, 1e-12)
	assert.InDelta(t, math.Exp(2)/(math.Exp(0.5)+math.Exp(-1)+math.Exp(2)+1), all[0].Probability, 1e-12)
	assert.Nil(t, TopK(nil, nil, 3))
}
