package arena

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArenaRecyclesAfterLastRead(t *testing.T) {
	var a Arena
	x := a.NewSlot(2, false) // read twice
	kept := a.NewSlot(-1, false)
	y := a.NewSlot(1, true)
	a.Reset()

	bx := a.Alloc(x, 8)
	for i := range bx {
		bx[i] = 7
	}
	bk := a.Alloc(kept, 8)
	a.Read(x)
	by := a.Alloc(y, 8)
	assert.NotSame(t, &bx[0], &by[0], "x still has a read to come")
	a.Read(x) // the last read frees x's buffer
	a.Read(kept)
	z := a.NewSlot(0, false)
	bz := a.Alloc(z, 4)
	assert.Same(t, &bx[0], &bz[0], "the freed buffer is reused")
	assert.Equal(t, []float32{0, 0, 0, 0}, bz, "and zeroed for a slot that is not Full")
	assert.NotSame(t, &bk[0], &bz[0])

	// A new pass frees everything; a Full slot gets its buffer as it was,
	// or NaN-filled under Poison.
	a.Reset()
	Poison = true
	t.Cleanup(func() { Poison = false })
	b := a.Alloc(y, 8)
	require.Len(t, b, 8)
	assert.True(t, math.IsNaN(float64(b[0])))
}
