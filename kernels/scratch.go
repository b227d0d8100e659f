package kernels

import "sync"

// buf is a pooled scratch slice. Pooling the pointer keeps Put from
// allocating.
type buf struct{ s []float32 }

var bufPool = sync.Pool{New: func() any { return new(buf) }}

// getBuf returns scratch space of n floats with unspecified contents.
func getBuf(n int) *buf {
	b := bufPool.Get().(*buf)
	if cap(b.s) < n {
		b.s = make([]float32, n)
	}
	b.s = b.s[:n]
	return b
}

func putBuf(b *buf) { bufPool.Put(b) }
