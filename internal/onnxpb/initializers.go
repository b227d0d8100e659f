package onnxpb

import "google.golang.org/protobuf/encoding/protowire"

// ReadInitializers decodes every initializer of a ModelProto's main graph
// (ModelProto.graph = 7, GraphProto.initializer = 5) with ReadTensor, in
// file order. Tensors whose data lives outside the file (external data)
// come back without values; callers check sizes against Dims. It never
// panics on malformed input.
func ReadInitializers(data []byte) ([]*Tensor, error) {
	var out []*Tensor
	err := walkGraph(data, func(num protowire.Number, v []byte) error {
		if num != 5 {
			return nil
		}
		t, err := ReadTensor(v)
		if err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
