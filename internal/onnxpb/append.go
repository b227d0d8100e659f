package onnxpb

// AppendInitializers returns model bytes whose graph also holds the given
// initializers. Protobuf merges a repeated embedded message field, so the
// original bytes are kept as they are and a second graph fragment holding
// only the initializers is appended. For tests: engine's conformance test
// adds initializers to the ONNX backend-test models; the exporter writes
// its own.
func AppendInitializers(model []byte, inits []Tensor) []byte {
	var g []byte
	for i := range inits {
		g = appendBytes(g, 5, inits[i].marshal())
	}
	out := append([]byte(nil), model...)
	return appendBytes(out, 7, g)
}
