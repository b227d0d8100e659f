package fmix

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// constantBatch returns n examples of c channels where every value of
// example i is i+1, so a mixed value tells which examples it came from.
func constantBatch(n, c, size int) []float32 {
	x := make([]float32, n*c*size)
	for i := 0; i < n; i++ {
		for j := 0; j < c*size; j++ {
			x[i*c*size+j] = float32(i + 1)
		}
	}
	return x
}

func newMixer(t *testing.T, mode Mode, shape []int, edit func(o *MixOptions)) *Mixer {
	t.Helper()
	o := MixOptions{Options: DefaultOptions(shape...), Mode: mode}
	o.Seed = 11
	if edit != nil {
		edit(&o)
	}
	m, err := NewMixer(o)
	require.NoError(t, err)
	return m
}

func requirePerm(t *testing.T, perm []int, n int) {
	t.Helper()
	s := slices.Clone(perm)
	slices.Sort(s)
	for i := range s {
		require.Equal(t, i, s[i], "not a permutation: %v", perm)
	}
	require.Len(t, perm, n)
}

func TestFMixBatch(t *testing.T) {
	for _, shape := range [][]int{{40}, {16, 12}, {6, 8, 10}} {
		for _, perSample := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v_perSample%v", shape, perSample), func(t *testing.T) {
				const n, c = 6, 3
				size := prod(shape)
				m := newMixer(t, ModeFMix, shape, func(o *MixOptions) { o.PerSample = perSample })
				x := constantBatch(n, c, size)
				dst := make([]float32, len(x))
				r, err := m.Mix(dst, x, n)
				require.NoError(t, err)
				require.Equal(t, ModeFMix, r.Mode)
				requirePerm(t, r.Perm, n)
				masks := make([][]float64, n)
				for i := 0; i < n; i++ {
					a, b := float64(i+1), float64(r.Perm[i]+1)
					ex := dst[i*c*size : (i+1)*c*size]
					mask := make([]float64, size)
					for p := 0; p < size; p++ {
						v := float64(ex[p])
						if a != b {
							mask[p] = (v - b) / (a - b) // v = a·m + b·(1-m)
						}
						for ch := 1; ch < c; ch++ {
							require.Equal(t, ex[p], ex[ch*size+p], "channels share the mask")
						}
					}
					masks[i] = mask
					if a == b {
						continue
					}
					mean := 0.0
					for _, v := range mask {
						require.True(t, v == 0 || v == 1, "hard mask value %v", v)
						mean += v
					}
					mean /= float64(size)
					assert.InDelta(t, r.Lams[i], mean, 1.0/float64(size)+1e-6, "mask mean ≈ λ")
				}
				if perSample {
					assert.NotEqual(t, r.Lams[0], r.Lams[1])
				} else {
					for i := range r.Lams {
						assert.Equal(t, r.Lam, r.Lams[i])
					}
				}
			})
		}
	}
}

func TestMixUp(t *testing.T) {
	const n, c = 5, 2
	shape := []int{4, 4}
	m := newMixer(t, ModeMixUp, shape, nil)
	x := constantBatch(n, c, 16)
	dst := make([]float32, len(x))
	r, err := m.Mix(dst, x, n)
	require.NoError(t, err)
	requirePerm(t, r.Perm, n)
	for i := 0; i < n; i++ {
		want := float32(i+1)*float32(r.Lam) + float32(r.Perm[i]+1)*(1-float32(r.Lam))
		for _, v := range dst[i*c*16 : (i+1)*c*16] {
			assert.InDelta(t, want, v, 1e-5)
		}
	}
}

func TestCutMix(t *testing.T) {
	for _, correct := range []bool{false, true} {
		t.Run(fmt.Sprintf("correct%v", correct), func(t *testing.T) {
			const n, c, h, w = 8, 2, 20, 24
			m := newMixer(t, ModeCutMix, []int{h, w}, func(o *MixOptions) { o.CorrectLam = correct })
			for batch := 0; batch < 20; batch++ {
				x := constantBatch(n, c, h*w)
				dst := make([]float32, len(x))
				r, err := m.Mix(dst, x, n)
				require.NoError(t, err)
				requirePerm(t, r.Perm, n)
				for i := 0; i < n; i++ {
					if r.Perm[i] == i {
						continue
					}
					ex := dst[i*c*h*w : i*c*h*w+h*w]
					// The pasted pixels form one box.
					y0, y1, x0, x1, pasted := h, -1, w, -1, 0
					for p, v := range ex {
						if v == float32(r.Perm[i]+1) {
							pasted++
							y0, y1 = min(y0, p/w), max(y1, p/w)
							x0, x1 = min(x0, p%w), max(x1, p%w)
						} else {
							require.Equal(t, float32(i+1), v)
						}
					}
					if pasted > 0 {
						assert.Equal(t, (y1-y0+1)*(x1-x0+1), pasted, "pasted region is a box")
					}
					kept := 1 - float64(pasted)/float64(h*w)
					if correct {
						assert.InDelta(t, kept, r.Lams[i], 1e-12)
					} else {
						// Unclipped, the box is about (1-λ) of the image.
						side := math.Sqrt(1 - r.Lams[i])
						assert.LessOrEqual(t, pasted, int(math.Round(side*h)+1)*int(math.Round(side*w)+1))
					}
				}
			}
		})
	}
}

func TestFMixPlusMixUpAlternates(t *testing.T) {
	m := newMixer(t, ModeFMixPlusMixUp, []int{8, 8}, nil)
	x := constantBatch(4, 1, 64)
	dst := make([]float32, len(x))
	var modes []Mode
	for i := 0; i < 4; i++ {
		r, err := m.Mix(dst, x, 4)
		require.NoError(t, err)
		modes = append(modes, r.Mode)
	}
	assert.Equal(t, []Mode{ModeFMix, ModeMixUp, ModeFMix, ModeMixUp}, modes)
}

func TestMixInPlaceMatches(t *testing.T) {
	for _, mode := range []Mode{ModeMixUp, ModeCutMix, ModeFMix} {
		a := newMixer(t, mode, []int{6, 6}, nil)
		b := newMixer(t, mode, []int{6, 6}, nil)
		x := constantBatch(5, 3, 36)
		for i := range x {
			x[i] += float32(i%7) * 0.1
		}
		out := make([]float32, len(x))
		ra, err := a.Mix(out, x, 5)
		require.NoError(t, err)
		in := slices.Clone(x)
		rb, err := b.Mix(in, in, 5)
		require.NoError(t, err)
		assert.Equal(t, out, in, "%v in place", mode)
		assert.Equal(t, ra.Perm, rb.Perm)
		assert.Equal(t, ra.Lams, rb.Lams)
	}
}

func TestMixNone(t *testing.T) {
	m := newMixer(t, ModeNone, []int{3, 3}, nil)
	x := constantBatch(3, 1, 9)
	dst := make([]float32, len(x))
	r, err := m.Mix(dst, x, 3)
	require.NoError(t, err)
	assert.Equal(t, x, dst)
	assert.Equal(t, []int{0, 1, 2}, r.Perm)
	assert.Equal(t, 1.0, r.Lam)
}

func TestMixRejects(t *testing.T) {
	m := newMixer(t, ModeFMix, []int{4, 4}, nil)
	for _, tc := range []struct {
		name   string
		dst, x []float32
		n      int
	}{
		{"no examples", make([]float32, 16), make([]float32, 16), 0},
		{"length mismatch", make([]float32, 15), make([]float32, 16), 1},
		{"not whole channels", make([]float32, 40), make([]float32, 40), 2},
		{"empty", []float32{}, []float32{}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Mix(tc.dst, tc.x, tc.n)
			assert.ErrorIs(t, err, ErrInvalid)
		})
	}
}
