// Package maskviz draws FMix masks: a PNG figure in the style of the
// paper's (low-frequency images, their masks, two rows of images and their
// mixes) and an animated GIF slicing a 3D mask. It backs `zoo-train masks`.
package maskviz

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"math"
	"math/rand/v2"

	"github.com/fmixzoo/zoo/fmix"
)

// Options configures the pictures.
type Options struct {
	// Mask is the sampler's configuration; Figure needs a 2D Shape,
	// SliceGIF a 3D one.
	Mask fmix.Options
	// Columns is the number of masks in the figure (default 6).
	Columns int
	// Scale is the number of pixels per mask element (default 4).
	Scale int
	// Images are the pictures mixed in the figure, 2·Columns of them
	// (first row, then second row); nil draws generated ones. They are
	// resampled to the mask shape.
	Images []Gray
}

// ErrShape is returned when the mask shape does not suit the picture.
var ErrShape = errors.New("maskviz: unsuitable mask shape")

const gap = 4 // pixels between cells

func (o *Options) defaults() {
	if o.Columns <= 0 {
		o.Columns = 6
	}
	if o.Scale <= 0 {
		o.Scale = 4
	}
}

// Figure samples Columns masks and draws five rows: the low-frequency
// images (a blue-to-yellow colour map), their binary masks, two rows of
// images and the FMix mixes mask·top + (1-mask)·bottom.
func Figure(o Options) (*image.RGBA, error) {
	o.defaults()
	if len(o.Mask.Shape) != 2 {
		return nil, fmt.Errorf("%w: the figure needs a 2D mask, got %v", ErrShape, o.Mask.Shape)
	}
	h, w := o.Mask.Shape[0], o.Mask.Shape[1]
	if h*o.Scale > 4096 || w*o.Scale*o.Columns > 16384 {
		return nil, fmt.Errorf("%w: %v at scale %d is too large to draw", ErrShape, o.Mask.Shape, o.Scale)
	}
	s, err := fmix.NewSampler(o.Mask)
	if err != nil {
		return nil, fmt.Errorf("maskviz: figure: %w", err)
	}
	imgs := o.Images
	if imgs == nil {
		imgs = Generated(2*o.Columns, h, w, o.Mask.Seed)
	}
	if len(imgs) < 2*o.Columns {
		return nil, fmt.Errorf("maskviz: figure: %d images for %d columns, want %d", len(imgs), o.Columns, 2*o.Columns)
	}
	cw, ch := w*o.Scale, h*o.Scale
	out := image.NewRGBA(image.Rect(0, 0, o.Columns*(cw+gap)+gap, 5*(ch+gap)+gap))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	for c := 0; c < o.Columns; c++ {
		lam := s.Lambda()
		low := append([]float64(nil), s.LowFreq()...)
		mask := fmix.Binarise(low, lam, c%2 == 0, o.Mask.MaxSoft)
		if mask == nil {
			return nil, fmt.Errorf("maskviz: figure: binarise λ %v failed", lam)
		}
		top := resample(imgs[c], h, w)
		bottom := resample(imgs[o.Columns+c], h, w)
		mixed := make([]float64, h*w)
		for i := range mixed {
			mixed[i] = mask[i]*top.Pix[i] + (1-mask[i])*bottom.Pix[i]
		}
		x := gap + c*(cw+gap)
		for row, data := range [][]float64{low, mask, top.Pix, bottom.Pix, mixed} {
			cmap := grey
			if row == 0 {
				cmap = viridis
			}
			paint(out, image.Pt(x, gap+row*(ch+gap)), data, h, w, o.Scale, cmap)
		}
	}
	return out, nil
}

// SliceGIF samples one 3D mask and returns an animation with a frame per
// slice of its first axis: the low-frequency slice beside the mask slice.
func SliceGIF(o Options) (*gif.GIF, error) {
	o.defaults()
	if len(o.Mask.Shape) != 3 {
		return nil, fmt.Errorf("%w: the animation needs a 3D mask, got %v", ErrShape, o.Mask.Shape)
	}
	d, h, w := o.Mask.Shape[0], o.Mask.Shape[1], o.Mask.Shape[2]
	if d > 1024 || h*o.Scale > 4096 || w*o.Scale > 4096 {
		return nil, fmt.Errorf("%w: %v at scale %d is too large to animate", ErrShape, o.Mask.Shape, o.Scale)
	}
	s, err := fmix.NewSampler(o.Mask)
	if err != nil {
		return nil, fmt.Errorf("maskviz: animation: %w", err)
	}
	lam := s.Lambda()
	low := append([]float64(nil), s.LowFreq()...)
	mask := fmix.Binarise(low, lam, true, o.Mask.MaxSoft)
	if mask == nil {
		return nil, fmt.Errorf("maskviz: animation: binarise λ %v failed", lam)
	}
	cw, ch := w*o.Scale, h*o.Scale
	bounds := image.Rect(0, 0, 2*cw+3*gap, ch+2*gap)
	pal := gifPalette()
	anim := &gif.GIF{Config: image.Config{ColorModel: pal, Width: bounds.Dx(), Height: bounds.Dy()}}
	frame := image.NewRGBA(bounds)
	n := h * w
	for z := 0; z < d; z++ {
		draw.Draw(frame, bounds, image.White, image.Point{}, draw.Src)
		paint(frame, image.Pt(gap, gap), low[z*n:(z+1)*n], h, w, o.Scale, viridis)
		paint(frame, image.Pt(2*gap+cw, gap), mask[z*n:(z+1)*n], h, w, o.Scale, grey)
		p := image.NewPaletted(bounds, pal)
		draw.Draw(p, bounds, frame, image.Point{}, draw.Src)
		anim.Image = append(anim.Image, p)
		anim.Delay = append(anim.Delay, 8)
	}
	return anim, nil
}

// gifPalette holds 128 shades of the colour map, 127 greys and white.
func gifPalette() color.Palette {
	pal := make(color.Palette, 0, 256)
	for i := 0; i < 128; i++ {
		pal = append(pal, viridis(float64(i)/127))
	}
	for i := 0; i < 127; i++ {
		pal = append(pal, grey(float64(i)/126))
	}
	return append(pal, color.White)
}

// Generated returns n synthetic h×w pictures (blobs, stripes and
// gradients) for when no dataset is installed.
func Generated(n, h, w int, seed uint64) []Gray {
	r := rand.New(rand.NewPCG(seed, 0x6d61736b))
	out := make([]Gray, n)
	for k := range out {
		g := Gray{H: h, W: w, Pix: make([]float64, h*w)}
		cy, cx := r.Float64()*float64(h), r.Float64()*float64(w)
		rad := (0.2 + 0.25*r.Float64()) * float64(min(h, w))
		freq := 2 + 6*r.Float64()
		angle := r.Float64() * math.Pi
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				fy, fx := float64(y)/float64(h), float64(x)/float64(w)
				v := 0.25 + 0.25*math.Sin(2*math.Pi*freq*(fx*math.Cos(angle)+fy*math.Sin(angle)))
				if math.Hypot(float64(y)-cy, float64(x)-cx) < rad {
					v = 0.6 + 0.4*fy
				}
				g.Pix[y*w+x] = v
			}
		}
		out[k] = g
	}
	return out
}

// resample scales a picture to h×w by nearest neighbour.
func resample(g Gray, h, w int) Gray {
	if g.H == h && g.W == w {
		return g
	}
	out := Gray{H: h, W: w, Pix: make([]float64, h*w)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[y*w+x] = g.Pix[(y*g.H/h)*g.W+x*g.W/w]
		}
	}
	return out
}

// paint draws an h×w field of [0, 1] values at p, each value a
// scale×scale square coloured by cmap.
func paint(dst *image.RGBA, p image.Point, data []float64, h, w, scale int, cmap func(float64) color.RGBA) {
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := cmap(data[y*w+x])
			r := image.Rect(p.X+x*scale, p.Y+y*scale, p.X+(x+1)*scale, p.Y+(y+1)*scale)
			draw.Draw(dst, r, &image.Uniform{C: c}, image.Point{}, draw.Src)
		}
	}
}

func grey(v float64) color.RGBA {
	b := uint8(math.Round(255 * min(max(v, 0), 1)))
	return color.RGBA{R: b, G: b, B: b, A: 255}
}

// viridis approximates matplotlib's viridis colour map.
func viridis(v float64) color.RGBA {
	stops := [...][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}
	v = min(max(v, 0), 1) * float64(len(stops)-1)
	i := min(int(v), len(stops)-2)
	t := v - float64(i)
	var c [3]uint8
	for k := range c {
		c[k] = uint8(math.Round(stops[i][k]*(1-t) + stops[i+1][k]*t))
	}
	return color.RGBA{R: c[0], G: c[1], B: c[2], A: 255}
}
