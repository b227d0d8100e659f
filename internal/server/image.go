package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// imageLimits bound what decoding one uploaded image may cost.
type imageLimits struct {
	maxPixels int64 // width×height, from the header
	maxScans  int   // JPEG scans (SOS markers); 0: no limit
}

// imageHeader is what inspectImage learnt before any pixel was decoded.
type imageHeader struct {
	format      string // png, jpeg, gif, bmp or webp
	cfg         image.Config
	progressive bool // JPEG coded progressively (SOF2)
	scans       int  // JPEG scans
}

// sniffImage returns the image format of data by its magic bytes, or "" when
// it is none the server accepts.
func sniffImage(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

var (
	decoders = map[string]func(io.Reader) (image.Image, error){
		"png": png.Decode, "jpeg": jpeg.Decode, "gif": gif.Decode, "bmp": bmp.Decode, "webp": webp.Decode,
	}
	configDecoders = map[string]func(io.Reader) (image.Config, error){
		"png": png.DecodeConfig, "jpeg": jpeg.DecodeConfig, "gif": gif.DecodeConfig, "bmp": bmp.DecodeConfig, "webp": webp.DecodeConfig,
	}
)

// inspectImage reads an uploaded image's header without decoding a pixel.
// It refuses formats other than PNG, JPEG, GIF, BMP and WebP (415), images
// of more than lim.maxPixels pixels (413), JPEGs of more than lim.maxScans
// scans (400: a progressive JPEG's decoding time grows with scans × pixels,
// so a few kilobytes of empty scans over a large frame keep a core busy
// for minutes) and headers that do not decode (400). It never panics.
func inspectImage(data []byte, lim imageLimits) (h imageHeader, err error) {
	h.format = sniffImage(data)
	if h.format == "" {
		return h, errorf(http.StatusUnsupportedMediaType, "unsupported media type: want a PNG, JPEG, GIF, BMP or WebP image")
	}
	defer func() {
		if p := recover(); p != nil {
			err = errorf(http.StatusBadRequest, "decode %s image header: malformed data (%v)", h.format, p)
		}
	}()
	if h.cfg, err = configDecoders[h.format](bytes.NewReader(data)); err != nil {
		return h, errorf(http.StatusBadRequest, "decode %s image header: %v", h.format, err)
	}
	if h.cfg.Width <= 0 || h.cfg.Height <= 0 {
		return h, errorf(http.StatusBadRequest, "decode %s image: empty image %dx%d", h.format, h.cfg.Width, h.cfg.Height)
	}
	if px := int64(h.cfg.Width) * int64(h.cfg.Height); px > lim.maxPixels {
		return h, errorf(http.StatusRequestEntityTooLarge, "image %dx%d has %d pixels, more than the limit of %d", h.cfg.Width, h.cfg.Height, px, lim.maxPixels)
	}
	if h.format == "jpeg" {
		h.scans, h.progressive = jpegScans(data)
		if lim.maxScans > 0 && h.scans > lim.maxScans {
			return h, errorf(http.StatusBadRequest, "JPEG image has %d scans, more than the limit of %d (--max-jpeg-scans)", h.scans, lim.maxScans)
		}
	}
	return h, nil
}

// jpegScans counts the scans (SOS segments) of a JPEG by walking its
// markers, skipping segments by their lengths and entropy-coded data up to
// the next marker; progressive reports a progressive frame (SOF2, SOF6,
// SOF10, SOF14). It runs in time linear in len(data) and stops at EOI or
// at the first malformed segment (the decoder reports those).
func jpegScans(data []byte) (scans int, progressive bool) {
	for i := 2; i+1 < len(data); {
		if data[i] != 0xff {
			i++ // entropy-coded data
			continue
		}
		switch m := data[i+1]; {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0x00, m == 0x01, m >= 0xd0 && m <= 0xd8: // stuffed 0xFF, TEM, RSTn, SOI
			i += 2
			continue
		case m == 0xd9: // EOI
			return scans, progressive
		case m == 0xda:
			scans++
		case m == 0xc2, m == 0xc6, m == 0xca, m == 0xce:
			progressive = true
		}
		if i+3 >= len(data) {
			break
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if n < 2 {
			break
		}
		i += 2 + n
	}
	return scans, progressive
}

// bytesPerPixel is the size of a pixel of the image type the decoders
// return for a colour model.
func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at most
	case color.NYCbCrAModel, color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	return 8 // RGBA64, NRGBA64 and anything unknown
}

// decodeBytes bounds the bytes decoding the image allocates: its pixels in
// the decoded form (Go's image types: a 16-bit RGBA PNG is 8 B/px) plus
// the decoder's working memory, as measured per format in
// TestDecodeBytesBoundAllocations.
func (h imageHeader) decodeBytes() int64 {
	px := int64(h.cfg.Width) * int64(h.cfg.Height)
	bpp := bytesPerPixel(h.cfg.ColorModel)
	switch h.format {
	case "png":
		bpp *= 2 // interlaced images decode each pass into an image of its own
	case "jpeg":
		comps := min(bpp, 4) // 1 grey, 3 YCbCr, 4 CMYK
		if comps >= 3 {
			bpp += 4 // Adobe RGB and CMYK are converted to RGBA
		}
		if h.progressive {
			bpp += 4 * comps // coefficients kept as int32 blocks between scans
		}
	case "webp":
		bpp = 8 // lossless: the ARGB pixels as uint32 and the NRGBA image; lossy: less
	}
	return px*bpp + 64<<10
}

// decodePixels decodes an inspected image. The decoder reads data through
// a reader that fails once ctx ends and hands out at most 512 bytes a
// call, so that a decode whose request has gone stops within a few
// milliseconds instead of running to the end. It never panics.
func decodePixels(ctx context.Context, data []byte, h imageHeader) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, errorf(http.StatusBadRequest, "decode %s image: malformed data (%v)", h.format, p)
		}
	}()
	img, err = decoders[h.format](&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "decode %s image: %v", h.format, err)
	}
	// A GIF's first frame may be smaller than its screen, never larger.
	if b := img.Bounds(); b.Empty() || b.Dx() > h.cfg.Width || b.Dy() > h.cfg.Height {
		return nil, errorf(http.StatusBadRequest, "decode %s image: header says %dx%d, pixels are %dx%d", h.format, h.cfg.Width, h.cfg.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

// decodeImage inspects and decodes an uploaded image with no memory budget
// (tests and fuzzing; the server goes through Server.preprocessEach).
func decodeImage(data []byte, maxPixels int64) (image.Image, error) {
	h, err := inspectImage(data, imageLimits{maxPixels: maxPixels, maxScans: defaultMaxScans})
	if err != nil {
		return nil, err
	}
	return decodePixels(context.Background(), data, h)
}

// ctxReader reads at most 512 bytes a call and fails once ctx has ended.
type ctxReader struct {
	ctx context.Context
	r   *bytes.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("decode abandoned: %w", err)
	}
	if len(p) > 512 {
		p = p[:512]
	}
	return c.r.Read(p)
}
