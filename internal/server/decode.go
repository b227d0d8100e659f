package server

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"net/http"
	"time"
)

// Decoding an image costs far more memory than its upload: a 300 KB PNG
// of 16-bit RGBA pixels at the pixel limit decodes to 320 MB, and its
// decoder and preprocessing need as much again. So the server reads every image's
// header first, charges what decoding and preprocessing it will allocate
// against a process-wide budget (Config.DecodeMemory) before allocating,
// decodes one image at a time straight into the request's input tensor,
// and bounds the decodes running at once (Config.MaxDecodes). Request
// bodies are charged as they are read.

const (
	defaultDecodeMemory = 512 << 20
	defaultMaxScans     = 100
	// budgetWait is the longest a request waits for room in the budget
	// before it is answered 503 with Retry-After.
	budgetWait = 5 * time.Second
)

// preprocessBytes bounds what Model.Preprocess (hub's, internal/vision)
// allocates for the image h describes: its conversion to 8-bit planes (c
// bytes a pixel from grey; 3 for RGB planes and 1 for luma from YCbCr,
// RGBA, NRGBA and CMYK; up to 8 more through color.Model for other types),
// the two passes of the antialiased resize (the shorter side goes to
// info.Resize, or straight to H×W when it is 0) with their coefficient
// tables, and the output. TestPreprocessBytesBoundHubAllocations holds it
// to hub's allocations.
func preprocessBytes(info ModelInfo, h imageHeader) int64 {
	w, ht := int64(h.cfg.Width), int64(h.cfg.Height)
	c, oh, ow := int64(info.Input[0]), int64(info.Input[1]), int64(info.Input[2])
	rh, rw := oh, ow
	if r := int64(info.Resize); r > 0 {
		if w <= ht {
			rw, rh = r, r*ht/w+1
		} else {
			rh, rw = r, r*w/ht+1
		}
		rh, rw = max(rh, oh), max(rw, ow)
	}
	var convert int64
	switch h.cfg.ColorModel {
	case color.GrayModel:
		convert = c
	case color.YCbCrModel, color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		convert = 4
	default:
		convert = 12
	}
	// Coefficient tables: per output row or column a start, a count, a
	// slice header and its weights (about 2 in/out + 2 of them).
	coeffs := 64*(rw+rh) + 8*(w+ht)
	return w*ht*convert + c*(ht*rw+rh*rw) + coeffs + 8*c*oh*ow + 64<<10
}

// inspectAll reads the header of every image of a request, so that a bad
// one is refused before anything is decoded or a model loaded.
func (s *Server) inspectAll(blobs [][]byte) ([]imageHeader, error) {
	hs := make([]imageHeader, len(blobs))
	for i, b := range blobs {
		var err error
		if hs[i], err = inspectImage(b, s.imageLimits()); err != nil {
			return nil, numberImage(err, i, len(blobs))
		}
	}
	return hs, nil
}

func (s *Server) imageLimits() imageLimits {
	return imageLimits{maxPixels: s.cfg.MaxPixels, maxScans: s.cfg.MaxJPEGScans}
}

// numberImage prefixes an API error with the image's number when the
// request has more than one.
func numberImage(err error, i, n int) error {
	var ae *apiError
	if n > 1 && errors.As(err, &ae) {
		return &apiError{status: ae.status, msg: fmt.Sprintf("image %d: %s", i+1, ae.msg), retryAfter: ae.retryAfter}
	}
	return err
}

// preprocessEach decodes the inspected images one at a time and appends
// each one's model input (info.inputSize() values) to x, which it returns.
// Each image's decode and preprocessing is charged to the budget while it
// runs, the decode holds a decode slot, and blobs[i] is dropped once
// decoded. model is called once, after the first image decoded, so that a
// lone image that does not decode does not load a model.
func (s *Server) preprocessEach(ctx context.Context, blobs [][]byte, hs []imageHeader, info ModelInfo, model func() (Model, error)) ([]float32, error) {
	size := info.inputSize()
	x := make([]float32, 0, len(blobs)*size)
	var m Model
	for i := range blobs {
		v, err := s.preprocessOne(ctx, blobs[i], hs[i], info, func() (Model, error) {
			if m == nil {
				var err error
				if m, err = model(); err != nil {
					return nil, err
				}
			}
			return m, nil
		})
		if err != nil {
			return nil, numberImage(err, i, len(blobs))
		}
		if len(v) != size {
			return nil, fmt.Errorf("preprocess image for %s: %d values, want %d", info.Name, len(v), size)
		}
		x = append(x, v...)
		blobs[i] = nil
	}
	return x, nil
}

func (s *Server) preprocessOne(ctx context.Context, data []byte, h imageHeader, info ModelInfo, model func() (Model, error)) ([]float32, error) {
	n := h.decodeBytes() + preprocessBytes(info, h)
	what := fmt.Sprintf("a %dx%d %s image", h.cfg.Width, h.cfg.Height, h.format)
	if err := s.budget.acquire(ctx, n, what); err != nil {
		return nil, err
	}
	defer s.budget.release(n)
	img, err := s.decodeInSlot(ctx, data, h)
	if err != nil {
		return nil, err
	}
	m, err := model()
	if err != nil {
		return nil, err
	}
	v, err := m.Preprocess(img)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "preprocess image: %v", err)
	}
	return v, nil
}

// decodeInSlot decodes an image once one of Config.MaxDecodes slots is free.
func (s *Server) decodeInSlot(ctx context.Context, data []byte, h imageHeader) (image.Image, error) {
	select {
	case s.decodeSlots <- struct{}{}:
		defer func() { <-s.decodeSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return decodePixels(ctx, data, h)
}

// hold charges n bytes to the budget until the request ends (observe
// releases them): memory the handler keeps after decoding, such as the
// input tensor.
func (s *Server) hold(r *http.Request, n int64, what string) error {
	if err := s.budget.acquire(r.Context(), n, what); err != nil {
		return err
	}
	note(r).held += n
	return nil
}

// readCharged reads r to the end, charging every buffer it allocates to c
// (a grown buffer is charged in full: the old one is garbage, not yet
// collected). what names the body in errors.
func (s *Server) readCharged(ctx context.Context, r io.Reader, c *charge, what string) ([]byte, error) {
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			grow := max(int64(cap(buf)), 64<<10)
			if err := c.add(ctx, grow, what); err != nil {
				return nil, err
			}
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if tooLarge(err) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "body exceeds the limit of %d bytes", s.cfg.MaxBody)
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "read body: %v", err)
		}
	}
}
