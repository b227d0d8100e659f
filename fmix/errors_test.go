package fmix

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLowFreqImageRejects(t *testing.T) {
	normals := func(shape []int) []float64 {
		_, grid := FreqGrid(shape)
		return make([]float64, prod(grid)*2)
	}
	ok := normals([]int{4, 4})
	ok[3] = 1
	for _, tc := range []struct {
		name    string
		shape   []int
		decay   float64
		normals []float64
		v       Variant
		want    string
	}{
		{"rank 0", nil, 3, nil, Official, "rank 0"},
		{"rank 4", []int{2, 2, 2, 2}, 3, nil, Official, "rank 4"},
		{"h = 1", []int{1, 8}, 3, nil, Official, "below 2"},
		{"w = 1", []int{8, 1}, 3, nil, Isotropic, "below 2"},
		{"zero dim", []int{4, 0, 4}, 3, nil, Official, "below 2"},
		{"negative decay", []int{4, 4}, -1, ok, Official, "decay power"},
		{"NaN decay", []int{4, 4}, math.NaN(), ok, Official, "decay power"},
		{"short normals", []int{4, 4}, 3, ok[:5], Official, "want 24"},
		{"long normals", []int{4, 4}, 3, append(ok, 1), Official, "want 24"},
		{"NaN normal", []int{4, 4}, 3, append(append([]float64{}, ok[:23]...), math.NaN()), Official, "is NaN"},
		{"constant image", []int{4, 4}, 3, normals([]int{4, 4}), Isotropic, "constant"},
		{"huge decay", []int{4, 4}, 2000, ok, Official, "overflows"},
		{"huge draws", []int{4, 4}, 3, append([]float64{1e308}, ok[1:]...), Official, "non-finite"},
		{"unknown variant", []int{4, 4}, 3, ok, Variant(7), "Variant(7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LowFreqImage(tc.shape, tc.decay, tc.normals, tc.v)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	freqs, grid := FreqGrid([]int{1, 5})
	assert.Nil(t, freqs)
	assert.Nil(t, grid)
}

func TestBinariseRejects(t *testing.T) {
	low := []float64{0, 0.5, 1, 0.25}
	for _, tc := range []struct {
		name    string
		low     []float64
		lam     float64
		maxSoft float64
		want    string
	}{
		{"lam below 0", low, -0.1, 0, "lambda"},
		{"lam above 1", low, 1.1, 0, "lambda"},
		{"lam NaN", low, math.NaN(), 0, "lambda"},
		{"soft below 0", low, 0.5, -0.01, "max soft"},
		{"soft above 0.5", low, 0.5, 0.6, "max soft"},
		{"empty", nil, 0.5, 0, "empty"},
		{"NaN value", []float64{0, math.NaN()}, 0.5, 0, "NaN"},
		{"Inf value", []float64{0, math.Inf(1)}, 0.5, 0, "Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Nil(t, Binarise(tc.low, tc.lam, true, tc.maxSoft))
			err := BinariseTo(make([]float64, len(tc.low)), tc.low, tc.lam, true, tc.maxSoft)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	err := BinariseTo(make([]float64, 3), low, 0.5, true, 0)
	assert.ErrorIs(t, err, ErrInvalid)
}

// TestBinariseTies pins the tie rule: equal values rank the later index
// first, as numpy's argsort(...)[::-1] does for a stable sort.
func TestBinariseTies(t *testing.T) {
	for _, tc := range []struct {
		low  []float64
		lam  float64
		up   bool
		soft float64
		want []float64
	}{
		{[]float64{0.5, 0.5, 0.5, 0.5}, 0.5, true, 0, []float64{0, 0, 1, 1}},
		{[]float64{1, 0.5, 0.5, 0}, 0.5, false, 0, []float64{1, 0, 1, 0}},
		{[]float64{0.2, 0.2, 0.2, 0.2, 0.2, 0.2}, 0.5, true, 0.34, []float64{0, 0, 1.0 / 3, 2.0 / 3, 1, 1}},
		{[]float64{0, 1, 2, 3, 4, 5}, 0.5, true, 0.34, []float64{0, 0, 1.0 / 3, 2.0 / 3, 1, 1}},
		{[]float64{5, 4, 3, 2, 1, 0}, 0.5, true, 0.34, []float64{1, 1, 2.0 / 3, 1.0 / 3, 0, 0}},
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0.5, true, 0.2, []float64{0, 0, 0, 0, 1.0 / 3, 2.0 / 3, 1, 1, 1, 1}},
		{[]float64{3, 1, 2}, 0, true, 0, []float64{0, 0, 0}},
		{[]float64{3, 1, 2}, 1, false, 0, []float64{1, 1, 1}},
		{[]float64{3, 1, 2}, 0.5, true, 0, []float64{1, 0, 1}},
		{[]float64{3, 1, 2}, 0.5, false, 0, []float64{1, 0, 0}},
	} {
		got := Binarise(tc.low, tc.lam, tc.up, tc.soft)
		require.Len(t, got, len(tc.want))
		for i := range got {
			assert.InDelta(t, tc.want[i], got[i], 1e-15, "%v λ %v soft %v: index %d of %v", tc.low, tc.lam, tc.soft, i, got)
		}
	}
}

func TestOptionsRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(o *MixOptions)
		want string
	}{
		{"alpha 0", func(o *MixOptions) { o.Alpha = 0 }, "alpha"},
		{"alpha Inf", func(o *MixOptions) { o.Alpha = math.Inf(1) }, "alpha"},
		{"soft 0.7", func(o *MixOptions) { o.MaxSoft = 0.7 }, "max soft"},
		{"shape", func(o *MixOptions) { o.Shape = []int{1} }, "below 2"},
		{"decay", func(o *MixOptions) { o.DecayPower = -2 }, "decay"},
		{"mode", func(o *MixOptions) { o.Mode = Mode(9) }, "Mode(9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := MixOptions{Options: DefaultOptions(4, 4), Mode: ModeFMix}
			tc.edit(&o)
			_, err := NewMixer(o)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := ParseMode("cutout")
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = ParseVariant("paper")
	assert.ErrorIs(t, err, ErrInvalid)
}
