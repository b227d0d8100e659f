package torchpt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// storageRef is a torch storage named by a persistent id. Its bytes are
// fetched by load when a tensor needs them.
type storageRef struct {
	key   string
	dtype dtype
	numel int64
	load  func() ([]byte, error) // exactly numel*dtype.size bytes
}

// tensorRef is a view (offset, shape, strides in elements) of a storage.
type tensorRef struct {
	storage *storageRef
	offset  int64
	shape   []int64
	stride  []int64
}

// maxNumel bounds any element count so that products cannot overflow.
const maxNumel = 1 << 40

// numel returns the number of elements of the view.
func (t *tensorRef) numel() int64 {
	n := int64(1)
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// check validates the view against its storage without touching data.
func (t *tensorRef) check() error {
	if len(t.shape) != len(t.stride) {
		return fmt.Errorf("size has %d dimensions, stride %d", len(t.shape), len(t.stride))
	}
	n := int64(1)
	for _, d := range t.shape {
		if d > maxNumel || (d > 0 && n > maxNumel/d) {
			return fmt.Errorf("size %v too large", t.shape)
		}
		n *= d
	}
	if n == 0 {
		return nil
	}
	last := t.offset
	if last > maxNumel {
		return fmt.Errorf("storage offset %d too large", last)
	}
	for i, d := range t.shape {
		// last + (d-1)*stride must stay ≤ maxNumel; test without overflow.
		if s := t.stride[i]; d > 1 && s > 0 && s > (maxNumel-last)/(d-1) {
			return fmt.Errorf("view (offset %d, size %v, stride %v) too large", t.offset, t.shape, t.stride)
		}
		last += (d - 1) * t.stride[i]
	}
	if last >= t.storage.numel {
		return fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of a storage of %d",
			t.offset, t.shape, t.stride, last, t.storage.numel)
	}
	return nil
}

// contiguous reports whether the view is row-major without gaps.
func (t *tensorRef) contiguous() bool {
	want := int64(1)
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] != 1 && t.stride[i] != want {
			return false
		}
		want *= t.shape[i]
	}
	return true
}

// materialize converts the view to row-major float32 from the storage bytes.
func (t *tensorRef) materialize(raw []byte, order binary.ByteOrder) ([]float32, error) {
	conv, err := converter(t.storage.dtype.name, order)
	if err != nil {
		return nil, err
	}
	size := t.storage.dtype.size
	if int64(len(raw)) != t.storage.numel*size {
		return nil, fmt.Errorf("storage %s has %d bytes, want %d", t.storage.key, len(raw), t.storage.numel*size)
	}
	n := t.numel()
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	if t.contiguous() {
		b := raw[t.offset*size:]
		for i := range out {
			out[i] = conv(b[int64(i)*size:])
		}
		return out, nil
	}
	idx := make([]int64, len(t.shape))
	pos := t.offset
	for i := range out {
		out[i] = conv(raw[pos*size:])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			pos += t.stride[d]
			if idx[d] < t.shape[d] {
				break
			}
			pos -= idx[d] * t.stride[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// converter returns a function reading one element as float32.
func converter(name string, order binary.ByteOrder) (func([]byte) float32, error) {
	switch name {
	case "float32":
		return func(b []byte) float32 { return math.Float32frombits(order.Uint32(b)) }, nil
	case "float16":
		return func(b []byte) float32 { return halfToFloat(order.Uint16(b)) }, nil
	case "bfloat16":
		return func(b []byte) float32 { return math.Float32frombits(uint32(order.Uint16(b)) << 16) }, nil
	case "float64":
		return func(b []byte) float32 { return float32(math.Float64frombits(order.Uint64(b))) }, nil
	case "int64":
		return func(b []byte) float32 { return float32(int64(order.Uint64(b))) }, nil
	case "int32":
		return func(b []byte) float32 { return float32(int32(order.Uint32(b))) }, nil
	case "int16":
		return func(b []byte) float32 { return float32(int16(order.Uint16(b))) }, nil
	case "int8":
		return func(b []byte) float32 { return float32(int8(b[0])) }, nil
	case "uint8":
		return func(b []byte) float32 { return float32(b[0]) }, nil
	case "bool":
		return func(b []byte) float32 {
			if b[0] != 0 {
				return 1
			}
			return 0
		}, nil
	}
	return nil, fmt.Errorf("%w: dtype %s", ErrUnsupported, name)
}

// halfToFloat converts IEEE 754 binary16 to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// subnormal: mant * 2^-24
	f := float32(mant) / (1 << 24)
	if sign != 0 {
		f = -f
	}
	return f
}

// storageBytes returns numel*size as int64, rejecting overflow.
func storageBytes(numel int64, dt dtype) (int64, error) {
	if numel < 0 || numel > maxNumel {
		return 0, fmt.Errorf("storage of %d elements", numel)
	}
	return numel * dt.size, nil
}

var errNoStorage = errors.New("storage bytes not available")
