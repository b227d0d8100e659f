package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// OpenIDX reads an MNIST-style dataset (MNIST, Fashion-MNIST) from dir: the
// IDX files train-images-idx3-ubyte and train-labels-idx1-ubyte (or t10k-…
// for the test split), each gzipped (.gz) or raw.
func OpenIDX(dir string, split Split) (Dataset, error) {
	prefix := "train"
	if split == TestSplit {
		prefix = "t10k"
	}
	imgPath, err := findIDX(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	imgDims, pix, err := readIDXFile(imgPath, 3)
	if err != nil {
		return nil, err
	}
	lblDims, lbl, err := readIDXFile(lblPath, 1)
	if err != nil {
		return nil, err
	}
	if imgDims[0] != lblDims[0] {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels: %w", imgPath, imgDims[0], lblPath, lblDims[0], ErrDataset)
	}
	labels := make([]int, len(lbl))
	for i, l := range lbl {
		if l > 9 {
			return nil, fmt.Errorf("data: %s: label %d of example %d, want 0..9: %w", lblPath, l, i, ErrDataset)
		}
		labels[i] = int(l)
	}
	d := &memDataset{pix: pix, labels: labels, c: 1, h: imgDims[1], w: imgDims[2], classes: 10}
	for _, p := range []string{imgPath, lblPath} {
		fd, err := digestFile(p)
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, fd)
	}
	return d, nil
}

// findIDX returns dir/base.gz or dir/base, whichever exists.
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("data: stat %s: %w", p, err)
		}
	}
	return "", fmt.Errorf("data: %s: missing IDX file (want %s or %s.gz): %w",
		filepath.Join(dir, base), base, base, ErrDataset)
}

// maxIDXBytes bounds what one IDX file may declare (ImageNet-sized MNIST
// variants do not exist; this stops a corrupt header allocating terabytes).
const maxIDXBytes = 1 << 31

// readIDXFile reads an unsigned-byte IDX file with ndim dimensions.
func readIDXFile(path string, ndim int) ([]int, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: open %s: %w: %w", path, ErrDataset, err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	var magic [2]byte
	br := r.(*bufio.Reader)
	if head, err := br.Peek(2); err == nil {
		copy(magic[:], head)
	}
	if magic == [2]byte{0x1f, 0x8b} {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: bad gzip stream: %w: %w", path, ErrDataset, err)
		}
		defer zr.Close()
		r = zr
	}
	dims, data, err := decodeIDX(r, ndim)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return dims, data, nil
}

// decodeIDX parses the IDX format: a 4-byte magic (0, 0, type 0x08 =
// unsigned byte, ndim), ndim big-endian uint32 sizes, then the data.
func decodeIDX(r io.Reader, ndim int) ([]int, []uint8, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("read IDX header: %w: %w", ErrDataset, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || int(hdr[3]) != ndim {
		return nil, nil, fmt.Errorf("IDX magic % x, want 00 00 08 %02x (unsigned bytes, %d dimensions): %w", hdr, ndim, ndim, ErrDataset)
	}
	dims := make([]int, ndim)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return nil, nil, fmt.Errorf("read IDX dimension %d: %w: %w", i, ErrDataset, err)
		}
		if d == 0 || total*int(d) > maxIDXBytes {
			return nil, nil, fmt.Errorf("IDX dimension %d = %d is out of range: %w", i, d, ErrDataset)
		}
		dims[i] = int(d)
		total *= int(d)
	}
	data := make([]uint8, total)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, nil, fmt.Errorf("IDX data truncated: want %d bytes for shape %v: %w: %w", total, dims, ErrDataset, err)
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, nil, fmt.Errorf("IDX has bytes after the %d declared by shape %v: %w", total, dims, ErrDataset)
	}
	return dims, data, nil
}

// encodeIDX writes data in the IDX format; tests use it to build fixtures.
func encodeIDX(dims []int, data []uint8) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}
