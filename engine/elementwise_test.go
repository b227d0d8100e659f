package engine

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// The row-by-row binary operations compute exactly what an element-by-
// element numpy broadcast does, for same shapes, scalars, per-channel
// constants, mixed broadcasts and outputs large enough to be split across
// processors.
func TestRowBroadcast(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	shapes := [][2][]int{
		{{2, 3, 4, 5}, {2, 3, 4, 5}},
		{{2, 3, 4, 5}, {}},
		{{}, {2, 3, 4, 5}},
		{{1}, {3, 1}},
		{{2, 3, 4, 5}, {1, 3, 1, 1}},
		{{3, 1, 1}, {2, 3, 4, 5}},
		{{2, 3, 4, 5}, {5}},
		{{2, 1, 4, 1}, {1, 3, 1, 5}},
		{{2, 3, 1, 5}, {2, 3, 4, 1}},
		{{4, 1}, {1, 1}},
		{{0, 3}, {1, 3}},
		{{3, 16, 32, 32}, {3, 16, 32, 32}}, // split across processors
		{{3, 16, 32, 32}, {1}},
		{{3, 16, 32, 32}, {16, 1, 1}},
		{{1, 1, 300}, {7, 1}}, // rows longer than rowChunk, each input constant over some
	}
	for range 20 {
		var pair [2][]int
		rank := rng.Intn(5)
		for k := range pair {
			for d := 0; d < rank; d++ {
				pair[k] = append(pair[k], []int{1, 2, 3, 5}[rng.Intn(4)])
			}
		}
		for d := 0; d < rank; d++ {
			if pair[0][d] != pair[1][d] && pair[0][d] != 1 && pair[1][d] != 1 {
				pair[rng.Intn(2)][d] = 1
			}
		}
		pair[1] = pair[1][rng.Intn(rank+1):] // numpy right-aligns a lower rank
		shapes = append(shapes, pair)
	}
	ops := []struct {
		name string
		vec  vecFunc
		f    func(a, b float32) float32
	}{
		{"add", addVec, func(a, b float32) float32 { return a + b }},
		{"sub", subVec, func(a, b float32) float32 { return a - b }},
		{"mul", mulVec, func(a, b float32) float32 { return a * b }},
		{"div", divVec, func(a, b float32) float32 { return a / b }},
		{"max", vecOf(maxNaN), maxNaN},
	}
	random := func(shape []int) []float32 {
		x := make([]float32, shapeSize(shape))
		for i := range x {
			x[i] = rng.Float32()*4 + 0.5
			if rng.Intn(2) == 0 {
				x[i] = -x[i]
			}
		}
		return x
	}
	for _, sh := range shapes {
		out, err := broadcast(sh[0], sh[1])
		require.NoError(t, err)
		a, b := random(sh[0]), random(sh[1])
		rows := newRowBroadcast(sh[0], sh[1], out)
		for _, op := range ops {
			t.Run(fmt.Sprintf("%v_%v_%s", sh[0], sh[1], op.name), func(t *testing.T) {
				want := make([]float32, shapeSize(out))
				forBroadcast(out, bstrides(sh[0], out), bstrides(sh[1], out), func(o, ia, ib int) { want[o] = op.f(a[ia], b[ib]) })
				got := make([]float32, len(want))
				rows.run(op.vec, a, b, got)
				require.Equal(t, want, got)
			})
		}
	}
}
