package onnxpb

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Further TensorProto data types ReadTensor understands.
const (
	Int32  = 6
	Bool   = 9
	Double = 11
)

// ReadTensor decodes a serialized TensorProto (as in the ONNX backend
// test data's input_N.pb / output_N.pb). Float and double data land in
// Floats, integer and bool data in Int64s.
func ReadTensor(data []byte) (*Tensor, error) {
	t := &Tensor{}
	var raw []byte
	hasRaw := false
	err := walk(data, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			return appendVarints(typ, v, x, func(u uint64) { t.Dims = append(t.Dims, int64(u)) })
		case 2:
			t.DataType = int32(x)
		case 4:
			return appendFixed32(typ, v, x, func(u uint32) { t.Floats = append(t.Floats, math.Float32frombits(u)) })
		case 5, 7:
			return appendVarints(typ, v, x, func(u uint64) {
				if num == 5 {
					t.Int64s = append(t.Int64s, int64(int32(u)))
				} else {
					t.Int64s = append(t.Int64s, int64(u))
				}
			})
		case 8:
			t.Name = string(v)
		case 9:
			raw, hasRaw = v, true
		case 10:
			if typ == protowire.BytesType {
				for len(v) >= 8 {
					t.Floats = append(t.Floats, float32(math.Float64frombits(binary.LittleEndian.Uint64(v))))
					v = v[8:]
				}
			} else {
				t.Floats = append(t.Floats, float32(math.Float64frombits(x)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if hasRaw {
		switch t.DataType { // room for the raw values at once: weights run to hundreds of MB
		case Float:
			t.Floats = slices.Grow(t.Floats, len(raw)/4)
		case Double:
			t.Floats = slices.Grow(t.Floats, len(raw)/8)
		case Int32:
			t.Int64s = slices.Grow(t.Int64s, len(raw)/4)
		case Int64:
			t.Int64s = slices.Grow(t.Int64s, len(raw)/8)
		}
		switch t.DataType {
		case Float:
			if len(raw)%4 != 0 {
				return nil, fmt.Errorf("%w: raw float data of %d bytes", ErrMalformed, len(raw))
			}
			for i := 0; i+4 <= len(raw); i += 4 {
				t.Floats = append(t.Floats, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
			}
		case Double:
			for i := 0; i+8 <= len(raw); i += 8 {
				t.Floats = append(t.Floats, float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[i:]))))
			}
		case Int64:
			for i := 0; i+8 <= len(raw); i += 8 {
				t.Int64s = append(t.Int64s, int64(binary.LittleEndian.Uint64(raw[i:])))
			}
		case Int32:
			for i := 0; i+4 <= len(raw); i += 4 {
				t.Int64s = append(t.Int64s, int64(int32(binary.LittleEndian.Uint32(raw[i:]))))
			}
		case Bool, 2, 3: // bool, uint8, int8
			for _, b := range raw {
				if t.DataType == 3 {
					t.Int64s = append(t.Int64s, int64(int8(b)))
				} else {
					t.Int64s = append(t.Int64s, int64(b))
				}
			}
		default:
			return nil, fmt.Errorf("onnxpb: tensor %q: data type %d is not supported", t.Name, t.DataType)
		}
	}
	return t, nil
}

func appendVarints(typ protowire.Type, v []byte, x uint64, add func(uint64)) error {
	if typ != protowire.BytesType {
		add(x)
		return nil
	}
	for len(v) > 0 {
		u, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return fmt.Errorf("%w: packed varint: %v", ErrMalformed, protowire.ParseError(n))
		}
		add(u)
		v = v[n:]
	}
	return nil
}

func appendFixed32(typ protowire.Type, v []byte, x uint64, add func(uint32)) error {
	if typ != protowire.BytesType {
		add(uint32(x))
		return nil
	}
	if len(v)%4 != 0 {
		return fmt.Errorf("%w: packed fixed32 of %d bytes", ErrMalformed, len(v))
	}
	for ; len(v) >= 4; v = v[4:] {
		add(binary.LittleEndian.Uint32(v))
	}
	return nil
}
