package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fmixzoo/zoo/internal/vision"
)

// Transform turns an Example into the network's input: float32 C×H×W.
// Implementations are safe for concurrent use; all randomness comes from rng.
type Transform interface {
	// Apply writes the transformed example into dst, which has OutLen()
	// elements.
	Apply(ex Example, rng *rand.Rand, dst []float32) error
	// OutShape is the output's C, H, W.
	OutShape() [3]int
}

// OutLen is the number of float32s one transformed example occupies.
func OutLen(t Transform) int {
	s := t.OutShape()
	return s[0] * s[1] * s[2]
}

// Norm is a per-channel normalisation applied to pixels scaled to [0, 1]:
// (p/255 - Mean[c]) / Std[c].
type Norm struct {
	Mean, Std []float32
}

// Published normalisations.
var (
	// FashionMNISTNorm is what the published trainer uses for Fashion-MNIST
	// (and MNIST).
	FashionMNISTNorm = Norm{Mean: []float32{0.1307}, Std: []float32{0.3081}}
	// CIFAR10Norm is the published CIFAR-10 normalisation.
	CIFAR10Norm = Norm{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2023, 0.1994, 0.2010}}
	// CIFAR100Norm is the published CIFAR-100 normalisation.
	CIFAR100Norm = Norm{Mean: []float32{0.5071, 0.4865, 0.4409}, Std: []float32{0.2673, 0.2564, 0.2762}}
	// ImageNetNorm is torchvision's ImageNet normalisation.
	ImageNetNorm = Norm{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
)

func (n Norm) check(c int) error {
	if len(n.Mean) != c || len(n.Std) != c {
		return fmt.Errorf("data: normalisation has %d means and %d stds for %d channels", len(n.Mean), len(n.Std), c)
	}
	for _, s := range n.Std {
		if s == 0 {
			return fmt.Errorf("data: normalisation std of 0")
		}
	}
	return nil
}

// channels adapts ex to c channels: grey is replicated to RGB; RGB becomes
// grey as PIL's convert("L") makes it (vision.Luma).
func channels(ex Example, c int) (Example, error) {
	if ex.C == c {
		return ex, nil
	}
	plane := ex.H * ex.W
	out := Example{Pix: make([]uint8, c*plane), C: c, H: ex.H, W: ex.W, Label: ex.Label}
	switch {
	case ex.C == 1 && c == 3:
		for k := 0; k < 3; k++ {
			copy(out.Pix[k*plane:], ex.Pix[:plane])
		}
	case ex.C == 3 && c == 1:
		out.Pix = vision.Luma(vision.Planes{Pix: ex.Pix, C: 3, H: ex.H, W: ex.W}).Pix
	default:
		return Example{}, fmt.Errorf("data: cannot turn a %d-channel image into %d channels", ex.C, c)
	}
	return out, nil
}

// CropFlip is the published CIFAR / Fashion-MNIST training transform: a
// random Size×Size crop of the image zero-padded by Pad pixels on each side,
// a horizontal flip with probability ½ (when Flip), then Norm. With Pad 0
// and Flip false it is the test transform (normalise only).
type CropFlip struct {
	C, Size, Pad int
	Flip         bool
	Norm         Norm
}

// OutShape implements Transform.
func (t CropFlip) OutShape() [3]int { return [3]int{t.C, t.Size, t.Size} }

// Apply implements Transform.
func (t CropFlip) Apply(ex Example, rng *rand.Rand, dst []float32) error {
	if err := t.Norm.check(t.C); err != nil {
		return err
	}
	ex, err := channels(ex, t.C)
	if err != nil {
		return err
	}
	if len(dst) != t.C*t.Size*t.Size {
		return fmt.Errorf("data: crop output has %d elements, want %d", len(dst), t.C*t.Size*t.Size)
	}
	ox, oy := (ex.W-t.Size)/2, (ex.H-t.Size)/2
	if t.Pad > 0 || ex.W != t.Size || ex.H != t.Size {
		if ex.W+2*t.Pad < t.Size || ex.H+2*t.Pad < t.Size {
			return fmt.Errorf("data: %d×%d image padded by %d is smaller than the %d crop", ex.W, ex.H, t.Pad, t.Size)
		}
		if rng != nil {
			oy = rng.IntN(ex.H+2*t.Pad-t.Size+1) - t.Pad
			ox = rng.IntN(ex.W+2*t.Pad-t.Size+1) - t.Pad
		}
	}
	flip := t.Flip && rng != nil && rng.IntN(2) == 1
	for c := 0; c < t.C; c++ {
		scale := 1 / (255 * t.Norm.Std[c])
		bias := -t.Norm.Mean[c] / t.Norm.Std[c]
		src := ex.Pix[c*ex.H*ex.W : (c+1)*ex.H*ex.W]
		out := dst[c*t.Size*t.Size : (c+1)*t.Size*t.Size]
		for y := 0; y < t.Size; y++ {
			sy := y + oy
			for x := 0; x < t.Size; x++ {
				sx := x + ox
				if flip {
					sx = ox + t.Size - 1 - x
				}
				var p uint8
				if sy >= 0 && sy < ex.H && sx >= 0 && sx < ex.W {
					p = src[sy*ex.W+sx]
				}
				out[y*t.Size+x] = float32(p)*scale + bias
			}
		}
	}
	return nil
}

// Eval is the test transform of an entry's preprocessing, torchvision's
// Resize(Resize), CenterCrop(Crop), ToTensor(), Normalize(Norm): it runs
// internal/vision's implementation, the one hub's (*Model).Preprocess runs,
// so accuracy measured while training is measured on the inputs a served
// model sees.
type Eval struct {
	C, Resize, Crop int
	Norm            Norm
}

// OutShape implements Transform.
func (t Eval) OutShape() [3]int { return [3]int{t.C, t.Crop, t.Crop} }

// Vision is t as internal/vision's transform.
func (t Eval) Vision() vision.Eval {
	v := vision.Eval{C: t.C, H: t.Crop, W: t.Crop, Resize: t.Resize, Scale: 255,
		Mean: make([]float64, len(t.Norm.Mean)), Std: make([]float64, len(t.Norm.Std))}
	for i, m := range t.Norm.Mean {
		v.Mean[i] = float64(m)
	}
	for i, s := range t.Norm.Std {
		v.Std[i] = float64(s)
	}
	return v
}

// Apply implements Transform; rng is unused.
func (t Eval) Apply(ex Example, _ *rand.Rand, dst []float32) error {
	if err := t.Norm.check(t.C); err != nil {
		return err
	}
	if len(dst) != t.C*t.Crop*t.Crop {
		return fmt.Errorf("data: eval output has %d elements, want %d", len(dst), t.C*t.Crop*t.Crop)
	}
	if t.Resize == 0 && (ex.H < t.Crop || ex.W < t.Crop) {
		return fmt.Errorf("data: %d×%d image is smaller than the %d crop", ex.W, ex.H, t.Crop)
	}
	if t.Resize > 0 && t.Resize < t.Crop {
		return fmt.Errorf("data: resize %d is smaller than the %d crop", t.Resize, t.Crop)
	}
	if _, err := t.Vision().ApplyPlanes(vision.Planes{Pix: ex.Pix, C: ex.C, H: ex.H, W: ex.W}, dst); err != nil {
		return fmt.Errorf("data: eval transform: %w", err)
	}
	return nil
}

// RandomResizedCrop is the published ImageNet training transform: a crop of
// random area (8%–100%) and aspect ratio (3/4–4/3) resized to Size×Size
// (bilinear), a horizontal flip with probability ½, then Norm.
type RandomResizedCrop struct {
	Size int
	Norm Norm
}

// OutShape implements Transform.
func (t RandomResizedCrop) OutShape() [3]int { return [3]int{3, t.Size, t.Size} }

// Apply implements Transform, following torchvision's parameter sampling.
func (t RandomResizedCrop) Apply(ex Example, rng *rand.Rand, dst []float32) error {
	if err := t.Norm.check(3); err != nil {
		return err
	}
	ex, err := channels(ex, 3)
	if err != nil {
		return err
	}
	H, W := float64(ex.H), float64(ex.W)
	area := H * W
	x0, y0, cw, ch := 0.0, 0.0, W, H
	found := false
	for attempt := 0; attempt < 10 && !found; attempt++ {
		target := area * (0.08 + 0.92*rng.Float64())
		logR := math.Log(3.0/4) + (math.Log(4.0/3)-math.Log(3.0/4))*rng.Float64()
		ar := math.Exp(logR)
		w := math.Round(math.Sqrt(target * ar))
		h := math.Round(math.Sqrt(target / ar))
		if w > 0 && h > 0 && w <= W && h <= H {
			y0 = float64(rng.IntN(int(H-h) + 1))
			x0 = float64(rng.IntN(int(W-w) + 1))
			cw, ch, found = w, h, true
		}
	}
	if !found { // centre crop clamped to the ratio range
		ratio := W / H
		switch {
		case ratio < 3.0/4:
			cw, ch = W, math.Round(W/(3.0/4))
		case ratio > 4.0/3:
			ch, cw = H, math.Round(H*(4.0/3))
		}
		x0, y0 = math.Floor((W-cw)/2), math.Floor((H-ch)/2)
	}
	resample(ex, x0, y0, cw, ch, t.Size, t.Size, rng.IntN(2) == 1, t.Norm, dst)
	return nil
}

// resample maps the source window (x0, y0, cw×ch) onto an outW×outH grid with
// bilinear interpolation (half-pixel centres, edge clamping), optionally
// mirrored, and normalises into dst.
func resample(ex Example, x0, y0, cw, ch float64, outW, outH int, flip bool, n Norm, dst []float32) {
	fx, fy := cw/float64(outW), ch/float64(outH)
	plane := ex.H * ex.W
	for c := 0; c < ex.C; c++ {
		scale := 1 / (255 * n.Std[c])
		bias := -n.Mean[c] / n.Std[c]
		src := ex.Pix[c*plane : (c+1)*plane]
		out := dst[c*outH*outW : (c+1)*outH*outW]
		for y := 0; y < outH; y++ {
			syf := y0 + (float64(y)+0.5)*fy - 0.5
			ya, yb, wy := bilinearTaps(syf, ex.H)
			for x := 0; x < outW; x++ {
				xx := x
				if flip {
					xx = outW - 1 - x
				}
				sxf := x0 + (float64(xx)+0.5)*fx - 0.5
				xa, xb, wx := bilinearTaps(sxf, ex.W)
				top := float64(src[ya*ex.W+xa])*(1-wx) + float64(src[ya*ex.W+xb])*wx
				bot := float64(src[yb*ex.W+xa])*(1-wx) + float64(src[yb*ex.W+xb])*wx
				out[y*outW+x] = float32(top*(1-wy)+bot*wy)*scale + bias
			}
		}
	}
}

// bilinearTaps returns the two source indices around coordinate f (clamped
// to [0, n-1]) and the weight of the second.
func bilinearTaps(f float64, n int) (int, int, float64) {
	if f <= 0 {
		return 0, 0, 0
	}
	if f >= float64(n-1) {
		return n - 1, n - 1, 0
	}
	a := int(f)
	return a, a + 1, f - float64(a)
}

// TrainTransform is the published training transform for a dataset.
func TrainTransform(dataset string) (Transform, error) {
	switch dataset {
	case FashionMNIST, MNIST:
		return CropFlip{C: 1, Size: 28, Pad: 4, Flip: true, Norm: FashionMNISTNorm}, nil
	case CIFAR10:
		return CropFlip{C: 3, Size: 32, Pad: 4, Flip: true, Norm: CIFAR10Norm}, nil
	case CIFAR100:
		return CropFlip{C: 3, Size: 32, Pad: 4, Flip: true, Norm: CIFAR100Norm}, nil
	case ImageNet:
		return RandomResizedCrop{Size: 224, Norm: ImageNetNorm}, nil
	}
	return nil, fmt.Errorf("data: no training transform for dataset %q: %w", dataset, ErrDataset)
}

// TestTransform is the published test transform for a dataset.
func TestTransform(dataset string) (Eval, error) {
	switch dataset {
	case FashionMNIST, MNIST:
		return Eval{C: 1, Resize: 28, Crop: 28, Norm: FashionMNISTNorm}, nil
	case CIFAR10:
		return Eval{C: 3, Resize: 32, Crop: 32, Norm: CIFAR10Norm}, nil
	case CIFAR100:
		return Eval{C: 3, Resize: 32, Crop: 32, Norm: CIFAR100Norm}, nil
	case ImageNet:
		return Eval{C: 3, Resize: 256, Crop: 224, Norm: ImageNetNorm}, nil
	}
	return Eval{}, fmt.Errorf("data: no test transform for dataset %q: %w", dataset, ErrDataset)
}
