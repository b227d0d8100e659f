package server

import (
	"bytes"
	"image"
	"net/http"

	// Decoders for the formats the server accepts.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

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

// decodeImage decodes an uploaded image. It refuses formats other than PNG,
// JPEG, GIF, BMP and WebP (415), images of more than maxPixels pixels (413,
// checked on the header before any pixel is decoded) and anything that does
// not decode (400). It never panics, whatever data holds.
func decodeImage(data []byte, maxPixels int64) (img image.Image, err error) {
	format := sniffImage(data)
	if format == "" {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported media type: want a PNG, JPEG, GIF, BMP or WebP image")
	}
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, errorf(http.StatusBadRequest, "decode %s image: malformed data (%v)", format, p)
		}
	}()
	cfg, got, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "decode %s image header: %v", format, err)
	}
	if got != format {
		return nil, errorf(http.StatusBadRequest, "decode image: looks like %s, decodes as %s", format, got)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, errorf(http.StatusBadRequest, "decode %s image: empty image %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, errorf(http.StatusRequestEntityTooLarge, "image %dx%d has %d pixels, more than the limit of %d", cfg.Width, cfg.Height, px, maxPixels)
	}
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "decode %s image: %v", format, err)
	}
	// A GIF's first frame may be smaller than its screen, never larger.
	if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > maxPixels {
		return nil, errorf(http.StatusBadRequest, "decode %s image: header says %dx%d, pixels are %dx%d", format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, nil
}
