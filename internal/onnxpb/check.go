package onnxpb

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// CheckTensors verifies every tensor of a model that a decoder would
// materialise (the graph's initializers and the tensor attributes of its
// nodes) before any decoder sees it: dimensions non-negative, their
// product at most maxElems (checked without overflow), and exactly that
// many elements of data present, inline. A decoder that trusted the
// dimensions could otherwise allocate from them (a few bytes claiming
// 2^40 elements) or panic on the mismatch.
func CheckTensors(data []byte, maxElems int64) error {
	return walkGraph(data, func(num protowire.Number, v []byte) error {
		switch num {
		case 5: // initializer
			return checkTensor(v, maxElems)
		case 1: // node: its attributes (field 5) may hold tensors
			return walkBytes(v, func(num protowire.Number, attr []byte) error {
				if num != 5 {
					return nil
				}
				return walkBytes(attr, func(num protowire.Number, t []byte) error {
					if num == 5 || num == 11 { // t, tensors
						return checkTensor(t, maxElems)
					}
					return nil
				})
			})
		}
		return nil
	})
}

// checkTensor checks one TensorProto (see CheckTensors).
func checkTensor(b []byte, maxElems int64) error {
	var (
		name     string
		dataType int32
		numel    int64 = 1
		raw            = -1 // raw_data length, -1 when absent
		typed    int64
		external bool
		dims     []int64
		errDims  error
	)
	// countElements counts a repeated field's elements: one when not
	// packed; in a packed run, varints (width 0) or fixed-width values.
	countElements := func(typ protowire.Type, v []byte, width int64) int64 {
		switch {
		case typ != protowire.BytesType:
			return 1
		case width == 0:
			return countVarints(v)
		}
		return int64(len(v)) / width
	}
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1: // dims
			add := func(u uint64) {
				d := int64(u)
				dims = append(dims, d)
				switch {
				case errDims != nil:
				case d < 0:
					errDims = fmt.Errorf("negative dimension %d", d)
				case d > 0 && numel > maxElems/d:
					errDims = fmt.Errorf("dimensions hold more than %d elements", maxElems)
				default:
					numel *= d
				}
			}
			if len(dims) > 64 {
				return fmt.Errorf("%w: tensor of more than 64 dimensions", ErrMalformed)
			}
			if typ == protowire.BytesType {
				if countVarints(v) > 64 {
					return fmt.Errorf("%w: tensor of more than 64 dimensions", ErrMalformed)
				}
			}
			return appendVarints(typ, v, x, add)
		case 2:
			dataType = int32(x)
		case 8:
			name = string(v)
		case 9:
			raw = len(v)
		case 4, 5: // float_data, int32_data (packed fixed32 / varints)
			if num == 4 {
				typed += countElements(typ, v, 4)
			} else {
				typed += countElements(typ, v, 0)
			}
		case 7, 11: // int64_data, uint64_data
			typed += countElements(typ, v, 0)
		case 10: // double_data
			typed += countElements(typ, v, 8)
		case 3:
			return fmt.Errorf("%w: segmented tensor", ErrMalformed)
		case 13, 14: // external_data, data_location
			if num == 13 || x != 0 {
				external = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if errDims != nil {
		return fmt.Errorf("%w: tensor %q %v: %v", ErrMalformed, cut(name), shortDims(dims), errDims)
	}
	if external {
		return fmt.Errorf("%w: tensor %q keeps its data in an external file", ErrMalformed, cut(name))
	}
	have := typed
	if raw >= 0 {
		w := map[int32]int64{Float: 4, Int32: 4, Int64: 8, Double: 8, Bool: 1, 2: 1, 3: 1, 4: 2, 5: 2, 10: 2, 12: 4, 13: 8, 16: 2}[dataType]
		if w == 0 {
			return fmt.Errorf("%w: tensor %q: raw data of data type %d", ErrMalformed, cut(name), dataType)
		}
		if int64(raw)%w != 0 {
			return fmt.Errorf("%w: tensor %q: %d bytes of raw data for %d-byte elements", ErrMalformed, cut(name), raw, w)
		}
		have = int64(raw) / w
	}
	if have != numel {
		return fmt.Errorf("%w: tensor %q: dimensions %v hold %d elements, the data %d", ErrMalformed, cut(name), shortDims(dims), numel, have)
	}
	return nil
}

// countVarints counts the varints of a packed field without decoding them.
func countVarints(v []byte) int64 {
	var n int64
	for _, c := range v {
		if c < 0x80 {
			n++
		}
	}
	return n
}

// cut shortens a name from the file for an error message.
func cut(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// shortDims formats at most 8 dimensions.
func shortDims(d []int64) string {
	if len(d) > 8 {
		return fmt.Sprint(d[:8]) + "…"
	}
	return fmt.Sprint(d)
}
