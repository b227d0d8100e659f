package onnxpb

import "google.golang.org/protobuf/encoding/protowire"

// AppendInitializers returns model bytes whose graph also holds the given
// initializers. Protobuf merges a repeated embedded message field, so the
// original bytes are kept as they are and a second graph fragment holding
// only the initializers is appended.
func AppendInitializers(model []byte, inits []Tensor) []byte {
	var g []byte
	for i := range inits {
		g = appendBytes(g, 5, inits[i].marshal())
	}
	out := append([]byte(nil), model...)
	return appendBytes(out, 7, g)
}

var _ = protowire.BytesType
