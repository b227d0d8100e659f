package onnxpb

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ErrMalformed reports bytes that are not a well-formed ModelProto.
var ErrMalformed = errors.New("onnxpb: malformed ONNX protobuf")

// ReadMetadata returns a ModelProto's metadata_props and opset imports
// without decoding the graph. It never panics on malformed input.
func ReadMetadata(data []byte) (meta map[string]string, opsets map[string]int64, err error) {
	meta = map[string]string{}
	opsets = map[string]int64{}
	err = walkBytes(data, func(num protowire.Number, v []byte) error {
		switch num {
		case 8:
			var domain string
			var version int64
			if err := walk(v, func(n protowire.Number, t protowire.Type, vv []byte, x uint64) error {
				switch {
				case n == 1 && t == protowire.BytesType:
					domain = string(vv)
				case n == 2 && t == protowire.VarintType:
					version = int64(x)
				}
				return nil
			}); err != nil {
				return err
			}
			opsets[domain] = version
		case 14:
			kv, err := stringFields(v, 1, 2) // key, value
			if err != nil {
				return err
			}
			meta[kv[0]] = kv[1]
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return meta, opsets, nil
}

// walkGraph calls fn for each length-delimited field of a ModelProto's
// graph (ModelProto.graph = 7): nodes, initializers, inputs, outputs.
func walkGraph(model []byte, fn func(num protowire.Number, v []byte) error) error {
	return walkBytes(model, func(num protowire.Number, graph []byte) error {
		if num != 7 {
			return nil
		}
		return walkBytes(graph, fn)
	})
}

// walkBytes is walk over a message's length-delimited fields only
// (messages, strings, bytes, packed runs).
func walkBytes(b []byte, fn func(num protowire.Number, v []byte) error) error {
	return walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		return fn(num, v)
	})
}

// stringFields returns the string fields nums of a message, the last of
// each when it repeats, "" where absent.
func stringFields(b []byte, nums ...protowire.Number) ([]string, error) {
	out := make([]string, len(nums))
	err := walkBytes(b, func(num protowire.Number, v []byte) error {
		for i, n := range nums {
			if num == n {
				out[i] = string(v)
			}
		}
		return nil
	})
	return out, err
}

// walk calls fn for each field of one protobuf message: v holds a bytes
// field's payload, x a varint or fixed value.
func walk(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrMalformed, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}
