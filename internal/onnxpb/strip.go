package onnxpb

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// WithoutInitializers returns a copy of a serialized ModelProto whose main
// graph (ModelProto.graph = 7) has no initializers (GraphProto.initializer
// = 5); every other field is copied byte for byte. A decoder that needs
// the graph's structure but not its weights reads the copy, which is small,
// while the caller decodes the initializers once from the original
// (ReadInitializers).
func WithoutInitializers(model []byte) ([]byte, error) {
	out := make([]byte, 0, 1<<16)
	err := fields(model, func(num protowire.Number, typ protowire.Type, field, v []byte) error {
		if num != 7 || typ != protowire.BytesType {
			out = append(out, field...)
			return nil
		}
		var graph []byte
		err := fields(v, func(num protowire.Number, _ protowire.Type, field, _ []byte) error {
			if num != 5 {
				graph = append(graph, field...)
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = protowire.AppendTag(out, 7, protowire.BytesType)
		out = protowire.AppendBytes(out, graph)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// fields calls fn for each field of one protobuf message with the field's
// whole encoding (tag included) and, for a length-delimited field, its
// payload v.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, field, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrMalformed, num, protowire.ParseError(m))
		}
		var v []byte
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(b[n:])
		}
		if err := fn(num, typ, b[:n+m], v); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}
