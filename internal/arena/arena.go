// Package arena recycles the output buffers of a computation graph's ops
// between and within passes of the graph. Each op's output is a Slot that
// knows how many reads it gets per pass; after its last read its buffer
// goes back to the arena's free list for ops that run later, and at the
// start of each pass every buffer is free again. A pass therefore touches
// about as much memory as its peak live set and, once the first pass has
// sized the buffers, allocates none. The engine's plan instances and the
// zoo's training graphs use it. An Arena is used by one goroutine at a
// time (graphs run their ops one after another).
package arena

import "math"

// Slot is one op's output.
type Slot struct {
	// Readers is how many reads the value gets per pass; -1 keeps it until
	// the pass ends (values read after the pass, or by code that does not
	// report its reads).
	Readers int
	// Full marks an op that writes every element of its output, so a
	// recycled buffer needs no zeroing.
	Full bool

	left int
	buf  []float32
}

// Arena is a free list of buffers and the slots holding the others.
type Arena struct {
	slots []*Slot
	free  [][]float32
}

// Poison makes tests fill the recycled buffers of Full slots with NaN, so
// an op that leaves part of its output unwritten shows.
var Poison = false

// NewSlot adds a slot to a.
func (a *Arena) NewSlot(readers int, full bool) *Slot {
	s := &Slot{Readers: readers, Full: full}
	a.slots = append(a.slots, s)
	return s
}

// Reset starts a pass: every buffer is free and the read counts start
// over. Values of the previous pass must no longer be in use.
func (a *Arena) Reset() {
	for _, s := range a.slots {
		if s.buf != nil {
			a.free = append(a.free, s.buf)
			s.buf = nil
		}
		s.left = s.Readers
	}
}

// Alloc gives s a buffer of n floats, zeroed unless s.Full: the smallest
// free one that fits, or a new one.
func (a *Arena) Alloc(s *Slot, n int) []float32 {
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	if best < 0 {
		s.buf = make([]float32, n)
		return s.buf
	}
	b := a.free[best][:n]
	a.free[best] = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	switch {
	case !s.Full:
		clear(b)
	case Poison:
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	s.buf = b
	return b
}

// Read records one read of s's value in this pass; the last read frees
// its buffer.
func (a *Arena) Read(s *Slot) {
	if s.left <= 0 {
		return
	}
	if s.left--; s.left == 0 && s.buf != nil {
		a.free = append(a.free, s.buf)
		s.buf = nil
	}
}
