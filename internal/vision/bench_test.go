package vision

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// imageNetBench reads the 416×416 4:4:0 JPEG the benchmarks use and returns
// it with the ImageNet evaluation transform and a buffer for its output.
func imageNetBench(b *testing.B) (data []byte, t Eval, dst []float32) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "inputs", "dog416.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	t = Eval{C: 3, H: 224, W: 224, Resize: 256, Scale: 255,
		Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	return data, t, make([]float32, t.Len())
}

// BenchmarkImageNetJPEG decodes a 416×416 4:4:0 JPEG and runs the ImageNet
// evaluation transform on it: what verify spends per image before the model.
func BenchmarkImageNetJPEG(b *testing.B) {
	data, t, dst := imageNetBench(b)
	b.ReportAllocs()
	for b.Loop() {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := t.Apply(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransformOnly is the transform alone on the decoded image.
func BenchmarkTransformOnly(b *testing.B) {
	data, t, dst := imageNetBench(b)
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Apply(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}
