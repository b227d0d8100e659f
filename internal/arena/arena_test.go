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

// growingPass is a graph whose outputs grow op after op, each read once by
// the next op: its live set is two buffers.
func growingPass(slots []*Slot, alloc func(*Slot, int) []float32, read func(*Slot)) {
	for i, s := range slots {
		alloc(s, 100+10*i)
		if i > 0 {
			read(slots[i-1])
		}
	}
}

func TestArenaReplacesOutgrownBuffers(t *testing.T) {
	var a Arena
	slots := make([]*Slot, 20)
	for i := range slots {
		slots[i] = a.NewSlot(1, true)
	}
	a.Reset()
	growingPass(slots, a.Alloc, a.Read)
	a.Read(slots[len(slots)-1])
	assert.LessOrEqual(t, len(a.free), 2, "outgrown buffers are dropped, not kept")
}

func TestPresizeFirstPassAllocatesNothing(t *testing.T) {
	var a Arena
	slots := make([]*Slot, 20)
	for i := range slots {
		slots[i] = a.NewSlot(1, true)
	}
	slots[len(slots)-1].Readers = -1 // read after the pass
	a.Presize(func(alloc func(*Slot, int), read func(*Slot)) {
		growingPass(slots, func(s *Slot, n int) []float32 { alloc(s, n); return nil }, read)
	})
	require.Len(t, a.free, 2, "the pass's live set: two buffers")
	presized := map[*float32]bool{&a.free[0][:1][0]: true, &a.free[1][:1][0]: true}

	a.Reset()
	growingPass(slots, a.Alloc, a.Read)
	last := slots[len(slots)-1].buf
	require.Len(t, last, 290)
	assert.True(t, presized[&last[0]], "the last output is in a presized buffer")
	a.Reset()
	require.Len(t, a.free, 2, "the first pass allocated no buffer")
	for _, b := range a.free {
		assert.True(t, presized[&b[:1][0]])
	}
	assert.Zero(t, testing.AllocsPerRun(3, func() {
		a.Reset()
		growingPass(slots, a.Alloc, a.Read)
	}))
}

// A free buffer more than 16 times a value's size (twice, for a tight
// slot) is left for larger values; within those bounds the smallest that
// fits is taken.
func TestAllocLeavesBuffersFarTooLarge(t *testing.T) {
	var a Arena
	slot := func(tight bool) *Slot {
		s := a.NewSlot(1, true)
		s.Tight = tight
		return s
	}
	big, s6, s7, t49, t50 := slot(false), slot(false), slot(false), slot(true), slot(true)
	a.Reset()
	buf := &a.Alloc(big, 100)[0]
	a.Read(big)
	assert.NotSame(t, buf, &a.Alloc(s6, 6)[0], "100 floats for 6: a new buffer")
	a.Read(s6)
	assert.Same(t, buf, &a.Alloc(s7, 7)[0], "100 floats for 7")
	a.Read(s7)
	assert.NotSame(t, buf, &a.Alloc(t49, 49)[0], "tight: 100 floats for 49")
	a.Read(t49)
	assert.Same(t, buf, &a.Alloc(t50, 50)[0], "tight: 100 floats for 50")
}
