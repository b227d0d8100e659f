package vision_test

import (
	"fmt"
	"image/jpeg"
	"os"

	"github.com/fmixzoo/zoo/internal/vision"
)

// The ImageNet evaluation transform on a 333×251 colour JPEG: Resize(256)
// makes it 339×256 (int(256·333/251)), CenterCrop(224) starts at row 16 and
// column 58 (round((339-224)/2) = round(57.5) = 58, halves to even).
func ExampleEval() {
	f, err := os.Open("../../testdata/torch/preprocess/inputs/dog420.jpg")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f) // a *image.YCbCr: converted as libjpeg would
	if err != nil {
		panic(err)
	}
	imagenet := vision.Eval{C: 3, H: 224, W: 224, Resize: 256, Scale: 255,
		Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}}
	x, err := imagenet.Apply(img, nil)
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy(), len(x), err)
	h, w := vision.ResizedSize(251, 333, 256)
	top, left := vision.CenterCropOffsets(h, w, 224, 224)
	fmt.Println(w, h, top, left)
	// Output:
	// 333 251 150528 <nil>
	// 339 256 16 58
}
