package maskviz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/fmix"
	"github.com/fmixzoo/zoo/internal/testutil"
)

func TestFigureLayout(t *testing.T) {
	for _, tc := range []struct {
		shape          []int
		columns, scale int
	}{
		{[]int{28, 28}, 6, 4},
		{[]int{16, 24}, 3, 2},
	} {
		o := Options{Mask: fmix.DefaultOptions(tc.shape...), Columns: tc.columns, Scale: tc.scale}
		var buf bytes.Buffer
		require.NoError(t, WriteFigure(&buf, o))
		img, err := png.Decode(&buf)
		require.NoError(t, err)
		h, w := tc.shape[0]*tc.scale, tc.shape[1]*tc.scale
		assert.Equal(t, tc.columns*(w+gap)+gap, img.Bounds().Dx())
		assert.Equal(t, 5*(h+gap)+gap, img.Bounds().Dy())

		// The mask row is black and white only, with both present.
		seen := map[color.RGBA]bool{}
		for y := 2*gap + h; y < 2*gap+2*h; y++ {
			for x := gap; x < gap+w; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				seen[c] = true
			}
		}
		assert.Equal(t, map[color.RGBA]bool{{0, 0, 0, 255}: true, {255, 255, 255, 255}: true}, seen)

		// Every mixed pixel comes from the top or the bottom image.
		for y := 0; y < tc.shape[0]; y++ {
			for x := 0; x < tc.shape[1]; x++ {
				px := gap + x*tc.scale
				at := func(row int) color.Color { return img.At(px, gap+row*(h+gap)+y*tc.scale) }
				if at(1) == (color.RGBA{255, 255, 255, 255}) {
					assert.Equal(t, at(2), at(4))
				} else {
					assert.Equal(t, at(3), at(4))
				}
			}
		}
	}
}

func TestSliceGIF(t *testing.T) {
	o := Options{Mask: fmix.DefaultOptions(10, 12, 14), Scale: 3}
	var buf bytes.Buffer
	require.NoError(t, WriteGIF(&buf, o))
	anim, err := gif.DecodeAll(&buf)
	require.NoError(t, err)
	require.Len(t, anim.Image, 10, "one frame per slice")
	assert.Equal(t, 2*14*3+3*gap, anim.Config.Width)
	assert.Equal(t, 12*3+2*gap, anim.Config.Height)
	differ := false
	for _, f := range anim.Image[1:] {
		if !bytes.Equal(f.Pix, anim.Image[0].Pix) {
			differ = true
		}
	}
	assert.True(t, differ, "slices differ")

	// The mask half of every frame is exactly black and white.
	for _, f := range anim.Image {
		for y := gap; y < gap+12*3; y++ {
			for x := 2*gap + 14*3; x < 2*gap+2*14*3; x++ {
				c := color.RGBAModel.Convert(f.At(x, y)).(color.RGBA)
				require.True(t, c == color.RGBA{0, 0, 0, 255} || c == color.RGBA{255, 255, 255, 255}, "mask pixel %v", c)
			}
		}
	}
}

func TestShapeErrors(t *testing.T) {
	_, err := Figure(Options{Mask: fmix.DefaultOptions(8, 8, 8)})
	assert.ErrorIs(t, err, ErrShape)
	_, err = SliceGIF(Options{Mask: fmix.DefaultOptions(8, 8)})
	assert.ErrorIs(t, err, ErrShape)
	_, err = Figure(Options{Mask: fmix.DefaultOptions(1, 8)})
	assert.ErrorIs(t, err, fmix.ErrInvalid)
	_, err = Figure(Options{Mask: fmix.DefaultOptions(8, 8), Columns: 3, Images: Generated(5, 8, 8, 1)})
	assert.ErrorContains(t, err, "want 6")
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	f := Files{PNG: filepath.Join(dir, "m.png"), GIF: filepath.Join(dir, "m.gif"), GIFShape: []int{4, 6, 6}}
	require.NoError(t, WriteFiles(Options{Mask: fmix.DefaultOptions(8, 8), Columns: 2}, f))
	for _, p := range []string{f.PNG, f.GIF} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Positive(t, st.Size())
	}
	f.GIFShape = []int{4, 4}
	assert.ErrorIs(t, WriteFiles(Options{Mask: fmix.DefaultOptions(8, 8)}, f), ErrShape)
}

func idxBytes(n, h, w int, gz bool) []byte {
	var raw bytes.Buffer
	hdr := []uint32{0x803, uint32(n), uint32(h), uint32(w)}
	_ = binary.Write(&raw, binary.BigEndian, hdr) // a bytes.Buffer never fails
	for i := 0; i < n*h*w; i++ {
		raw.WriteByte(byte(i))
	}
	if !gz {
		return raw.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	return z.Bytes()
}

func TestDecodeIDX(t *testing.T) {
	for _, gz := range []bool{false, true} {
		imgs, err := decodeIDX(bufio.NewReader(bytes.NewReader(idxBytes(3, 2, 3, gz))), 2)
		require.NoError(t, err)
		require.Len(t, imgs, 2)
		assert.Equal(t, 2, imgs[1].H)
		assert.InDelta(t, 6.0/255, imgs[1].Pix[0], 1e-12)
	}
	bad := idxBytes(3, 2, 3, false)
	for _, tc := range []struct {
		name string
		data []byte
		n    int
		want string
	}{
		{"too many", bad, 4, "holds 3"},
		{"truncated", bad[:20], 2, "unexpected EOF"},
		{"short header", bad[:10], 1, "header"},
		{"magic", append([]byte{0, 0, 8, 1}, bad[4:]...), 1, "magic"},
		{"broken gzip", []byte{0x1f, 0x8b, 0, 0}, 1, "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeIDX(bufio.NewReader(bytes.NewReader(tc.data)), tc.n)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestFashionMNIST reads the real images make test installs.
func TestFashionMNIST(t *testing.T) {
	testutil.NeedFile(t, FashionMNISTPath)
	imgs, err := ReadIDXImages(FashionMNISTPath, 12)
	require.NoError(t, err)
	require.Len(t, imgs, 12)
	assert.Equal(t, 28, imgs[0].H)
	assert.Equal(t, 28, imgs[0].W)
	var buf bytes.Buffer
	require.NoError(t, WriteFigure(&buf, Options{Mask: fmix.DefaultOptions(28, 28), Images: imgs}))
	_, err = png.Decode(&buf)
	require.NoError(t, err)
}

// FuzzDecodeIDX: any bytes give images or an error, never a panic.
func FuzzDecodeIDX(f *testing.F) {
	f.Add(idxBytes(2, 2, 2, false), 1)
	f.Add(idxBytes(2, 3, 1, true), 2)
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, 1)
	f.Fuzz(func(t *testing.T, data []byte, count int) {
		count = min(max(count, 0), 8)
		imgs, err := decodeIDX(bufio.NewReader(bytes.NewReader(data)), count)
		if err == nil {
			require.Len(t, imgs, count)
		}
	})
}
