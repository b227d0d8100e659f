package kernels

import "sync"

// buf is a scratch slice handed out by getBuf.
type buf struct{ s []float32 }

// scratch keeps released buffers for reuse. Unlike a sync.Pool it survives
// garbage collections, so the megabyte-sized im2col and packing buffers
// are allocated once, not after every GC cycle. At most maxScratch
// buffers are kept; the largest are preferred.
var scratch struct {
	sync.Mutex
	free []*buf
}

const maxScratch = 32

// getBuf returns scratch space of n floats with unspecified contents.
func getBuf(n int) *buf {
	scratch.Lock()
	// The smallest buffer that fits; failing that, the largest, to regrow.
	best := -1
	for i, b := range scratch.free {
		if best < 0 {
			best = i
			continue
		}
		c, bc := cap(b.s), cap(scratch.free[best].s)
		switch {
		case c >= n && (bc < n || c < bc):
			best = i
		case bc < n && c > bc:
			best = i
		}
	}
	var b *buf
	if best >= 0 {
		b = scratch.free[best]
		last := len(scratch.free) - 1
		scratch.free[best] = scratch.free[last]
		scratch.free[last] = nil
		scratch.free = scratch.free[:last]
	}
	scratch.Unlock()
	if b == nil {
		b = new(buf)
	}
	if cap(b.s) < n {
		b.s = make([]float32, n)
	}
	b.s = b.s[:n]
	return b
}

// putBuf returns b for reuse; b may be nil.
func putBuf(b *buf) {
	if b == nil {
		return
	}
	scratch.Lock()
	if len(scratch.free) < maxScratch {
		scratch.free = append(scratch.free, b)
	}
	scratch.Unlock()
}
