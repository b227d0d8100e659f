package vision

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkImageNetJPEG decodes a 416×416 4:4:0 JPEG and runs the ImageNet
// evaluation transform on it: what verify spends per image before the model.
func BenchmarkImageNetJPEG(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "inputs", "dog416.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	t := Eval{C: 3, H: 224, W: 224, Resize: 256, Scale: 255,
		Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	dst := make([]float32, t.Len())
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
	data, err := os.ReadFile(filepath.Join(fixtureDir, "inputs", "dog416.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	t := Eval{C: 3, H: 224, W: 224, Resize: 256, Scale: 255,
		Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	dst := make([]float32, t.Len())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Apply(img, dst); err != nil {
			b.Fatal(err)
		}
	}
}
