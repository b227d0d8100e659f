package torchpt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead decodes the resnet101-layout fixture (626 tensors) in both
// formats; bytes/op is the file size.
func BenchmarkRead(b *testing.B) {
	for _, name := range []string{"resnet101.pt", "resnet101.legacy.pt"} {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Read(bytes.NewReader(data), int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
