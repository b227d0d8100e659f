package hub

import (
	"fmt"
	"image"

	"github.com/fmixzoo/zoo/internal/vision"
)

// ErrImage is returned (wrapped) for images Preprocess cannot use: nil,
// empty or over 2^28 pixels (callers test it with errors.Is; it is
// internal/vision's sentinel, which they cannot import).
var ErrImage = vision.ErrImage

// Preprocess turns img into the model's input, C×H×W float32 in row-major
// order, following the entry's Input exactly as torchvision 0.14 does on a
// PIL image (internal/vision holds the one implementation and its tests
// against torchvision):
//
//	convert("L" or "RGB") → Resize(Input.Resize) → CenterCrop(H, W) → ToTensor() → Normalize(Mean, Std)
//
// Conversion is PIL's (integer ITU-R 601-2 luma for grey, alpha dropped,
// palettes looked up, 16-bit samples as PIL reads them); a *image.YCbCr,
// which image/jpeg returns for colour JPEGs, is upsampled and converted as
// libjpeg does, so a decoded JPEG gives the pixels PIL would have. Resize
// is Pillow's antialiased bilinear on 8-bit data (straight to H×W when
// Input.Resize is 0); 8-bit values are divided by Input.Scale.
func (m *Model) Preprocess(img image.Image) ([]float32, error) {
	return preprocess(img, m.entry.Input, nil)
}

// evalTransform is the entry's preprocessing as a vision.Eval.
func (in Input) evalTransform() vision.Eval {
	return vision.Eval{C: in.Shape[0], H: in.Shape[1], W: in.Shape[2], Resize: in.Resize,
		Mean: in.Mean, Std: in.Std, Scale: in.Scale}
}

// preprocess writes into dst when it has room for C×H×W values.
func preprocess(img image.Image, in Input, dst []float32) ([]float32, error) {
	if len(in.Shape) != 3 {
		return nil, fmt.Errorf("hub: preprocess: input shape %v, want [C, H, W]", in.Shape)
	}
	out, err := in.evalTransform().Apply(img, dst)
	if err != nil {
		return nil, fmt.Errorf("hub: preprocess: %w", err)
	}
	return out, nil
}
