package engine

import "github.com/fmixzoo/zoo/kernels"

// vecFunc computes o[i] = a[i] op b[i] for len(o) elements: the loop of a
// float binary operation, called once per row rather than once per element.
type vecFunc func(o, a, b []float32)

func addVec(o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	for i := range o {
		o[i] = a[i] + b[i]
	}
}

func subVec(o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	for i := range o {
		o[i] = a[i] - b[i]
	}
}

func mulVec(o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	for i := range o {
		o[i] = a[i] * b[i]
	}
}

func divVec(o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	for i := range o {
		o[i] = a[i] / b[i]
	}
}

// vecOf is f applied element by element.
func vecOf(f func(a, b float32) float32) vecFunc {
	return func(o, a, b []float32) {
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = f(a[i], b[i])
		}
	}
}

// rowBroadcast is a numpy broadcast of two inputs seen as rows: the output
// is outer rows of inner elements, and over a row each input either runs
// contiguously or holds one value (a scalar, a per-channel constant).
type rowBroadcast struct {
	outer        []int // the output's dimensions before the rows
	sa, sb       []int // the inputs' strides over outer
	inner        int
	aRow, bRow   bool // the input runs along the row (else one value per row)
	total, parts int
}

// newRowBroadcast splits the broadcast of a and b to out (see bstrides)
// into rows: the longest run of trailing dimensions over which each input
// is contiguous or constant.
func newRowBroadcast(a, b, out []int) *rowBroadcast {
	sa, sb := bstrides(a, out), bstrides(b, out)
	r := &rowBroadcast{inner: 1, total: shapeSize(out)}
	const unknown, along, constant = 0, 1, 2
	ka, kb := unknown, unknown
	fits := func(kind *int, stride, inner int) bool {
		want := constant
		if stride != 0 {
			want = along
		}
		if (want == along && stride != inner) || (*kind != unknown && *kind != want) {
			return false
		}
		*kind = want
		return true
	}
	k := len(out)
	for ; k > 0; k-- {
		d := k - 1
		if out[d] != 1 && (!fits(&ka, sa[d], r.inner) || !fits(&kb, sb[d], r.inner)) {
			break
		}
		r.inner *= out[d]
	}
	r.outer, r.sa, r.sb = out[:k], sa[:k], sb[:k]
	r.aRow, r.bRow = ka == along, kb == along
	return r
}

// rowChunk is how many elements a broadcast value is spread over at once.
const rowChunk = 256

// run computes o from a and b with vec, splitting the rows (or the single
// row) across the processors when the output is large.
func (r *rowBroadcast) run(vec vecFunc, a, b, o []float32) {
	if r.total == 0 {
		return
	}
	rows := r.total / r.inner
	if rows == 1 {
		kernels.ParallelRange((r.inner+rowChunk-1)/rowChunk, r.total, func(lo, hi int) {
			r.span(vec, a, b, o, 0, 0, 0, lo*rowChunk, min(hi*rowChunk, r.inner), r.fills())
		})
		return
	}
	kernels.ParallelRange(rows, r.total, func(lo, hi int) {
		fill := r.fills()
		for row := lo; row < hi; row++ {
			ia, ib, rest := 0, 0, row
			for d := len(r.outer) - 1; d >= 0; d-- {
				i := rest % r.outer[d]
				rest /= r.outer[d]
				ia += i * r.sa[d]
				ib += i * r.sb[d]
			}
			r.span(vec, a, b, o, row*r.inner, ia, ib, 0, r.inner, fill)
		}
	})
}

// fills are the buffers span spreads a constant input over, one per input.
func (r *rowBroadcast) fills() [2][]float32 {
	n := min(r.inner, rowChunk)
	return [2][]float32{make([]float32, n), make([]float32, n)}
}

// span computes elements [lo, hi) of the row that starts at o's offset
// off and a's and b's offsets ia and ib.
func (r *rowBroadcast) span(vec vecFunc, a, b, o []float32, off, ia, ib, lo, hi int, fill [2][]float32) {
	if !r.aRow {
		spread(fill[0], a[ia])
	}
	if !r.bRow {
		spread(fill[1], b[ib])
	}
	for lo < hi {
		n := min(hi-lo, rowChunk)
		x, y := fill[0][:n], fill[1][:n]
		if r.aRow {
			x = a[ia+lo : ia+lo+n]
		}
		if r.bRow {
			y = b[ib+lo : ib+lo+n]
		}
		vec(o[off+lo:off+lo+n], x, y)
		lo += n
	}
}

func spread(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}
