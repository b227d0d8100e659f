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
	// Tight marks a value that stays live for long: it takes a free
	// buffer at most twice its size, else a new one. Without it, each of
	// DenseNet's layer outputs, read until the end of its block, took the
	// buffer the layer's growing map had just freed, and a block held one
	// such map-sized buffer per layer (88 MB at batch 1 for 5 MB of
	// outputs).
	Tight bool

	left int
	buf  []float32
}

// maxWaste bounds the buffer a value takes to maxWaste times its size.
const maxWaste = 16

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
// free one that fits and is not too large (see fit), or a new one. A new buffer replaces the largest free
// one, which is too small: an arena holds about as many buffers as its
// peak live set, even over a graph whose sizes grow from op to op
// (PyramidNet's channels grow with every block; keeping every outgrown
// buffer held 70 MB for a network that needs a few at batch 1). Buffers
// only grow, so after a few passes none is allocated.
func (a *Arena) Alloc(s *Slot, n int) []float32 {
	best, small := fit(len(a.free), func(i int) int { return cap(a.free[i]) }, n, s.Tight)
	if best < 0 {
		if small >= 0 {
			a.free[small] = a.free[len(a.free)-1]
			a.free = a.free[:len(a.free)-1]
		}
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

// fit picks, among k free buffers of capacities size(0…k-1), the smallest
// that holds n (best), else the largest too small, which a new buffer
// replaces (small); -1 where there is none. A buffer of more than
// maxWaste·n (2n for a tight slot, see Slot.Tight) is left for a larger
// value: a small one held in it kept it from the next large one, which
// then took a buffer of its own (DenseNet-BC-190 at batch 1 held 24 MB of
// buffers for a live set of about 12; 13 with the bound).
func fit(k int, size func(int) int, n int, tight bool) (best, small int) {
	limit := maxWaste * n
	if tight {
		limit = 2 * n
	}
	best, small = -1, -1
	for i := range k {
		switch c := size(i); {
		case c >= n:
			if (best < 0 || c < size(best)) && c <= limit {
				best = i
			}
		case small < 0 || c > size(small):
			small = i
		}
	}
	return best, small
}

// Presize gives a new arena the buffers its passes need before the first
// one runs, so that pass allocates no more than later ones. pass makes the
// calls a pass makes, in order: alloc for each Alloc, read for each Read.
// Presize replays it on buffer sizes alone until a pass would allocate
// nothing (at most 16 times), then allocates that set of buffers.
//
// Without it the first pass allocates whenever a size outgrows the free
// buffers, and a graph's nodes keep their outputs, outgrown buffers
// included, until the pass ends: over DenseNet-BC-190's growing
// concatenations the first pass at batch 1 held 176 MB of buffers for a
// live set of 15.
func (a *Arena) Presize(pass func(alloc func(s *Slot, n int), read func(s *Slot))) {
	var sizes []int // the buffers, all free when a pass starts
	for range 16 {
		free := sizes
		held := map[*Slot]int{}
		left := map[*Slot]int{}
		grew := false
		alloc := func(s *Slot, n int) {
			left[s] = s.Readers
			best, small := fit(len(free), func(i int) int { return free[i] }, n, s.Tight)
			if best < 0 {
				grew = true
				if small >= 0 {
					free[small] = free[len(free)-1]
					free = free[:len(free)-1]
				}
				held[s] = n
				return
			}
			held[s] = free[best]
			free[best] = free[len(free)-1]
			free = free[:len(free)-1]
		}
		read := func(s *Slot) {
			n, ok := held[s]
			if !ok || left[s] <= 0 {
				return
			}
			if left[s]--; left[s] == 0 {
				free = append(free, n)
				delete(held, s)
			}
		}
		pass(alloc, read)
		sizes = free
		for _, n := range held {
			sizes = append(sizes, n)
		}
		if !grew {
			break
		}
	}
	for _, n := range sizes {
		a.free = append(a.free, make([]float32, n))
	}
}
