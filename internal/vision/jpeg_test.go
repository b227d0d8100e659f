package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJPEGDecodeMatchesLibjpeg compares the RGB of Go's decoder + JPEGToRGB
// with PIL's (libjpeg-turbo: islow IDCT, fancy upsampling) on the same
// files. What remains is Go's IDCT, which is not islow: it logs the
// difference in grey levels, next to what image/jpeg's own conversion
// (chroma replicated, color.YCbCrToRGB) gives.
func TestJPEGDecodeMatchesLibjpeg(t *testing.T) {
	f := loadFixtures(t)
	var b strings.Builder
	for _, in := range f.Inputs {
		if filepath.Ext(in.File) != ".jpg" {
			continue
		}
		png := filepath.Join(fixtureDir, "inputs", strings.TrimSuffix(in.File, ".jpg")+".png")
		if !fileExists(png) {
			continue
		}
		t.Run(in.File, func(t *testing.T) {
			img := decodeFile(t, filepath.Join(fixtureDir, "inputs", in.File))
			c := 3
			if in.Mode == "L" {
				c = 1
			}
			got, err := Convert(img, c)
			require.NoError(t, err)
			want, err := Convert(decodeFile(t, png), c)
			require.NoError(t, err)
			require.Equal(t, len(want.Pix), len(got.Pix))
			mean, mx, exact := diff(got.Pix, want.Pix)
			// Go's own conversion, for comparison.
			goMean, goMax := math.NaN(), math.NaN()
			if ycc, ok := img.(*image.YCbCr); ok {
				plain := goRGB(ycc)
				goMean, goMax, _ = diff(plain.Pix, want.Pix)
				assert.Less(t, mean, goMean, "libjpeg's upsampling must be closer to PIL than Go's own conversion")
			}
			assert.Less(t, mean, 0.1, "mean grey-level difference")
			assert.LessOrEqual(t, mx, 3.0, "largest grey-level difference")
			fmt.Fprintf(&b, "\n%-15s %-6s mean %.3f max %2.0f exact %5.1f%%   image/jpeg's RGB: mean %.3f max %2.0f",
				in.File, in.Mode, mean, mx, 100*exact, goMean, goMax)
		})
	}
	t.Log("grey levels against PIL's decode:" + b.String())
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func diff(a, b []uint8) (mean, mx, exact float64) {
	var sum float64
	var same int
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		sum += d
		mx = max(mx, d)
		if d == 0 {
			same++
		}
	}
	return sum / float64(len(a)), mx, float64(same) / float64(len(a))
}

// goRGB is image/jpeg's own view of the pixels: chroma replicated,
// color.YCbCrToRGB.
func goRGB(m *image.YCbCr) Planes {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	n := w * h
	p := Planes{Pix: make([]uint8, 3*n), C: 3, H: h, W: w}
	for y := range h {
		for x := range w {
			r, g, bl := color.YCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[m.COffset(x, y)], m.Cr[m.COffset(x, y)])
			i := y*w + x
			p.Pix[i], p.Pix[n+i], p.Pix[2*n+i] = r, g, bl
		}
	}
	return p
}
