package torchpt

import (
	"fmt"
	"io"
)

// source is a forward reader over an io.ReaderAt with a known size. Every
// read is checked against the bytes left, so a hostile length is an error
// before anything is allocated.
type source struct {
	r    io.ReaderAt
	size int64
	pos  int64

	buf      []byte // window read ahead of pos
	bufStart int64  // file offset of buf[0]
}

const sourceChunk = 64 << 10

func newSource(r io.ReaderAt, off, size int64) *source {
	return &source{r: r, size: size, pos: off, bufStart: off}
}

// remaining is the number of bytes left after the current position.
func (s *source) remaining() int64 { return s.size - s.pos }

// fill makes at least n bytes from pos available in the window.
func (s *source) fill(n int64) error {
	if n > s.remaining() {
		return fmt.Errorf("need %d bytes at offset %d, file has %d left: %w", n, s.pos, s.remaining(), io.ErrUnexpectedEOF)
	}
	have := s.bufStart + int64(len(s.buf)) - s.pos
	if s.pos >= s.bufStart && have >= n {
		return nil
	}
	want := max(n, sourceChunk)
	want = min(want, s.remaining())
	if int64(cap(s.buf)) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	m, err := s.r.ReadAt(s.buf, s.pos)
	if int64(m) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read %d bytes at offset %d: %w", n, s.pos, err)
	}
	s.buf = s.buf[:m]
	s.bufStart = s.pos
	return nil
}

// read returns the next n bytes. The slice is only valid until the next call.
func (s *source) read(n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative length %d at offset %d", n, s.pos)
	}
	if err := s.fill(n); err != nil {
		return nil, err
	}
	i := s.pos - s.bufStart
	s.pos += n
	return s.buf[i : i+n], nil
}

func (s *source) readByte() (byte, error) {
	b, err := s.read(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

// maxLine bounds the text-protocol lines (GLOBAL names, INT, FLOAT, ...).
const maxLine = 1 << 16

// readLine returns the bytes up to, not including, the next '\n'.
func (s *source) readLine() ([]byte, error) {
	var line []byte
	for {
		b, err := s.readByte()
		if err != nil {
			return nil, err
		}
		if b == '\n' {
			return line, nil
		}
		if len(line) >= maxLine {
			return nil, fmt.Errorf("text line longer than %d bytes at offset %d", maxLine, s.pos)
		}
		line = append(line, b)
	}
}
