package vision

import (
	"fmt"
	"image"
)

// Eval is a model's evaluation transform, torchvision's
//
//	Compose([Resize(Resize), CenterCrop((H, W)), ToTensor(), Normalize(Mean, Std)])
//
// on an image converted to C channels. Resize 0 resizes straight to H×W
// (Resize((H, W))). Scale is what 8-bit values are divided by (ToTensor:
// 255; 0 means 255).
type Eval struct {
	C, H, W   int
	Resize    int
	Mean, Std []float64
	Scale     float64
}

// Len is the number of float32s Apply writes: C×H×W.
func (t Eval) Len() int { return t.C * t.H * t.W }

func (t Eval) check() error {
	if t.C != 1 && t.C != 3 {
		return fmt.Errorf("vision: eval transform: %d channels (want 1 or 3)", t.C)
	}
	if t.H <= 0 || t.W <= 0 || t.Resize < 0 {
		return fmt.Errorf("vision: eval transform: crop %d×%d, resize %d (want positive sizes)", t.W, t.H, t.Resize)
	}
	if len(t.Mean) != t.C || len(t.Std) != t.C {
		return fmt.Errorf("vision: eval transform: %d means and %d stds for %d channels", len(t.Mean), len(t.Std), t.C)
	}
	for _, s := range t.Std {
		if !(s > 0) {
			return fmt.Errorf("vision: eval transform: std %v is not > 0", t.Std)
		}
	}
	if t.Scale < 0 {
		return fmt.Errorf("vision: eval transform: scale %v < 0", t.Scale)
	}
	return nil
}

// Apply converts img (see Convert) and runs the transform, writing C×H×W
// float32s into dst when it has room (else into a new slice), which it
// returns.
func (t Eval) Apply(img image.Image, dst []float32) ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	p, err := Convert(img, t.C)
	if err != nil {
		return nil, err
	}
	return t.ApplyPlanes(p, dst)
}

// ApplyPlanes runs the transform on 8-bit planes that already have t.C
// channels (grey planes are replicated for an RGB transform; RGB planes are
// turned to luma for a grey one).
func (t Eval) ApplyPlanes(p Planes, dst []float32) ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if p.H <= 0 || p.W <= 0 || len(p.Pix) != p.C*p.H*p.W || (p.C != 1 && p.C != 3) {
		return nil, fmt.Errorf("vision: eval transform: %w: %d planes of %d×%d in %d bytes", ErrImage, p.C, p.W, p.H, len(p.Pix))
	}
	switch {
	case p.C == 3 && t.C == 1:
		p = Luma(p)
	case p.C == 1 && t.C == 3:
		n := p.H * p.W
		rgb := make([]uint8, 3*n)
		for ch := range 3 {
			copy(rgb[ch*n:], p.Pix)
		}
		p = Planes{Pix: rgb, C: 3, H: p.H, W: p.W}
	}
	rh, rw := t.H, t.W
	if t.Resize > 0 {
		rh, rw = ResizedSize(p.H, p.W, t.Resize)
	}
	p = Resize(p, rh, rw)
	if p.H < t.H || p.W < t.W {
		p = padTo(p, t.H, t.W)
	}
	top, left := CenterCropOffsets(p.H, p.W, t.H, t.W)
	n := t.Len()
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	scale := t.Scale
	if scale == 0 {
		scale = 255
	}
	for ch := range t.C {
		// ToTensor divides by 255 in float32; Normalize subtracts and
		// divides in float32 too.
		mean, std, s := float32(t.Mean[ch]), float32(t.Std[ch]), float32(scale)
		for y := range t.H {
			row := p.Pix[(ch*p.H+top+y)*p.W+left:][:t.W]
			out := dst[(ch*t.H+y)*t.W:][:t.W]
			for x, v := range row {
				out[x] = (float32(v)/s - mean) / std
			}
		}
	}
	return dst, nil
}

// padTo is torchvision's CenterCrop padding of an image smaller than the
// crop: zeros, the odd pixel on the right / bottom.
func padTo(p Planes, h, w int) Planes {
	nh, nw := max(p.H, h), max(p.W, w)
	top, left := (nh-p.H)/2, (nw-p.W)/2
	out := Planes{Pix: make([]uint8, p.C*nh*nw), C: p.C, H: nh, W: nw}
	for ch := range p.C {
		for y := range p.H {
			copy(out.Pix[(ch*nh+top+y)*nw+left:], p.Pix[(ch*p.H+y)*p.W:][:p.W])
		}
	}
	return out
}
