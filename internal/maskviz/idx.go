package maskviz

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// FashionMNISTPath is where Debian's dataset-fashion-mnist package puts the
// training images.
const FashionMNISTPath = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

// Gray is a greyscale picture with values in [0, 1], row-major.
type Gray struct {
	H, W int
	Pix  []float64
}

// ReadIDXImages reads the first count images of an IDX3 unsigned-byte file
// (gzip-compressed or not), scaled to [0, 1].
func ReadIDXImages(path string, count int) ([]Gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("maskviz: read images: %w", err)
	}
	defer f.Close()
	imgs, err := decodeIDX(bufio.NewReader(f), count)
	if err != nil {
		return nil, fmt.Errorf("maskviz: read images %s: %w", path, err)
	}
	return imgs, nil
}

// decodeIDX decodes up to count images from an IDX3 stream.
func decodeIDX(br *bufio.Reader, count int) ([]Gray, error) {
	var r io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if m := binary.BigEndian.Uint32(hdr[0:4]); m != 0x00000803 {
		return nil, fmt.Errorf("magic %#08x, want 0x00000803 (unsigned bytes, 3 dims)", m)
	}
	n := int(binary.BigEndian.Uint32(hdr[4:8]))
	h := int(binary.BigEndian.Uint32(hdr[8:12]))
	w := int(binary.BigEndian.Uint32(hdr[12:16]))
	if h < 1 || w < 1 || h > 4096 || w > 4096 {
		return nil, fmt.Errorf("image size %d×%d out of range", h, w)
	}
	if count > n {
		return nil, fmt.Errorf("want %d images, the file holds %d", count, n)
	}
	buf := make([]byte, h*w)
	out := make([]Gray, count)
	for i := range out {
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		g := Gray{H: h, W: w, Pix: make([]float64, h*w)}
		for j, b := range buf {
			g.Pix[j] = float64(b) / 255
		}
		out[i] = g
	}
	return out, nil
}
