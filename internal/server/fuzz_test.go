package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The decoders of untrusted input must answer an *apiError or a value, never
// panic or hang, whatever the bytes.

func FuzzDecodeImage(f *testing.F) {
	f.Add(greyPNG(4, 4, 0, 255))
	f.Add(tinyWebP)
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("BM\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xe0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decodeImage(data, 1<<16)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status > 415 {
				t.Fatalf("error %v is not a 4xx API error", err)
			}
			return
		}
		if b := img.Bounds(); b.Dx()*b.Dy() > 1<<16 || b.Empty() {
			t.Fatalf("decoded %v past the pixel limit", b)
		}
	})
}

func FuzzParseFP32(f *testing.F) {
	for _, s := range []string{"[1,2,3]", "[[1],[2.5e3],[-3]]", "[", "[1e99]", `["a"]`, "[[[]]]", "[1,,2]", "[-]", "[1e]"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, data []byte, want int) {
		if want < 0 || want > 1<<16 {
			return
		}
		v, err := parseFP32(data, want)
		if err == nil && len(v) != want {
			t.Fatalf("got %d values, want %d", len(v), want)
		}
	})
}

func FuzzDecodeInfer(f *testing.F) {
	info := ModelInfo{Name: "m", Input: []int{1, 4, 4}, Labels: fakeLabels}
	body, _ := binaryRequest(&testing.T{}, 1, flatInput(0.5), "")
	f.Add(body, 124)
	f.Add([]byte(`{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"FP32","data":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}`), -1)
	f.Add([]byte(`{"inputs":[{"name":"input","shape":[9223372036854775807,1,4,4],"datatype":"FP32","parameters":{"binary_data_size":64}}]}`), -1)
	f.Fuzz(func(t *testing.T, data []byte, headerLen int) {
		call, err := decodeInfer(data, headerLen, info, 8)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 400 {
				t.Fatalf("error %v is not a 400 API error", err)
			}
			return
		}
		if call.n < 1 || call.n > 8 || len(call.x) != call.n*16 {
			t.Fatalf("accepted %d inputs with %d values", call.n, len(call.x))
		}
	})
}

// fuzzBoundary is the multipart boundary of FuzzMultipartBatch's bodies.
const fuzzBoundary = "zoofuzzboundary"

// multipartSeed is a multipart body of "image" parts (and one other field)
// with fuzzBoundary.
func multipartSeed(parts ...[]byte) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		panic(err)
	}
	_ = mw.WriteField("note", "ignored")
	for i, p := range parts {
		w, _ := mw.CreateFormFile("image", fmt.Sprintf("img%d", i))
		_, _ = w.Write(p)
	}
	_ = mw.Close()
	return buf.Bytes()
}

// FuzzMultipartBatch posts multipart batch bodies to classify: whatever
// the body, the answer is a 200 with one prediction list per image or a
// 4xx/503 JSON error (never a 500 or a panic), and every byte charged to
// the decoding budget is given back.
func FuzzMultipartBatch(f *testing.F) {
	var gifBuf, jpegBuf bytes.Buffer
	_ = gif.Encode(&gifBuf, image.NewPaletted(image.Rect(0, 0, 6, 5), color.Palette{color.Black, color.White}), nil)
	_ = jpeg.Encode(&jpegBuf, image.NewRGBA(image.Rect(0, 0, 9, 7)), nil)
	png := greyPNG(4, 4, 0, 255)
	f.Add(multipartSeed(png))
	f.Add(multipartSeed(png, gifBuf.Bytes(), jpegBuf.Bytes(), tinyWebP))
	f.Add(multipartSeed(progressiveJPEG(64, 48, 3), png))
	f.Add(multipartSeed(progressiveJPEG(64, 64, 300)))
	f.Add(multipartSeed(png, []byte("not an image")))
	f.Add(multipartSeed())
	f.Add(multipartSeed(png, png, png, png, png, png, png, png, png))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\x89PNG\r\n\x1a\n"))
	f.Add([]byte("--" + fuzzBoundary + "--\r\n"))

	cat := newFakeCatalog("m")
	s, err := New(cat, Config{MaxBody: 1 << 20, MaxImages: 8, MaxPixels: 1 << 20, DecodeMemory: 64 << 20,
		RequestTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/models/m/classify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if got := s.budget.inUse(); got != 0 {
			t.Fatalf("%d bytes still charged after the request", got)
		}
		var reply struct {
			Predictions [][]Prediction `json:"predictions"`
			Error       string         `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body.Bytes())
		}
		switch {
		case rec.Code == http.StatusOK:
			if len(reply.Predictions) == 0 || len(reply.Predictions) > 8 {
				t.Fatalf("200 with %d prediction lists", len(reply.Predictions))
			}
		case rec.Code >= 400 && rec.Code < 500 || rec.Code == http.StatusServiceUnavailable:
			if reply.Error == "" || len(reply.Error) > maxMessage+len("…") {
				t.Fatalf("status %d with error %q", rec.Code, reply.Error)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
		}
	})
}

// FuzzProgressiveJPEG decodes JPEGs (seeded with progressive ones and
// scan floods) the way the server does: every input is an API error or an
// image of its header's size, decoding allocates no more than the budget
// is charged for it, and it stops with its context.
func FuzzProgressiveJPEG(f *testing.F) {
	f.Add(progressiveJPEG(64, 48, 3))
	f.Add(progressiveJPEG(17, 9, 1))
	f.Add(progressiveJPEG(256, 256, 99))
	f.Add(progressiveJPEG(1024, 1024, 101))
	var base bytes.Buffer
	_ = jpeg.Encode(&base, image.NewGray(image.Rect(0, 0, 16, 16)), nil)
	f.Add(base.Bytes())
	if b, err := os.ReadFile("testdata/hostile/progressive_grey.jpg"); err == nil {
		f.Add(b)
	}
	lim := imageLimits{maxPixels: 1 << 20, maxScans: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := inspectImage(data, lim)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status > 415 {
				t.Fatalf("inspect: %v is not a 4xx API error", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		img, err := decodePixels(ctx, data, h)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		if took > 2500*time.Millisecond {
			t.Fatalf("decode ran %v past a 2s deadline", took)
		}
		if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > h.decodeBytes()+1<<20 {
			t.Fatalf("%s %dx%d (progressive %v, %d scans) allocated %d bytes, charged %d", h.format,
				h.cfg.Width, h.cfg.Height, h.progressive, h.scans, alloc, h.decodeBytes())
		}
		if err != nil {
			var ae *apiError
			if !errors.Is(err, context.DeadlineExceeded) && (!errors.As(err, &ae) || ae.status != 400) {
				t.Fatalf("decode: %v is not a 400 API error", err)
			}
			return
		}
		if b := img.Bounds(); b.Dx() > h.cfg.Width || b.Dy() > h.cfg.Height || b.Empty() {
			t.Fatalf("decoded %v, header says %dx%d", b, h.cfg.Width, h.cfg.Height)
		}
	})
}

// TestWriteFuzzSeeds writes the committed seed corpora of the fuzz targets
// above (testdata/fuzz/Fuzz…/): issue 18's hostile bodies. Run it with
// ZOO_WRITE_FUZZ_SEEDS=1 to regenerate them.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ZOO_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set ZOO_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz")
	}
	webp, err := os.ReadFile("testdata/hostile/bomb_6320.webp")
	if err != nil {
		t.Fatal(err)
	}
	progressive, err := os.ReadFile("testdata/hostile/progressive.jpg")
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"FuzzMultipartBatch/issue18_webp_bombs":           multipartSeed(webp, webp, webp),
		"FuzzMultipartBatch/issue18_rgba16_png":           multipartSeed(zeroPNG(t, 1500, 1500, 6, 16)),
		"FuzzMultipartBatch/issue18_resize_bomb":          multipartSeed(zeroPNG(t, 1, 1<<20, 0, 8)),
		"FuzzMultipartBatch/scan_flood_and_good":          multipartSeed(progressiveJPEG(512, 512, 1000), greyPNG(4, 4, 0, 255)),
		"FuzzMultipartBatch/nine_images":                  multipartSeed(slices.Repeat([][]byte{greyPNG(4, 4, 9, 9)}, 9)...),
		"FuzzProgressiveJPEG/issue18_1000_scans_6320":     progressiveJPEG(6320, 6320, 1000),
		"FuzzProgressiveJPEG/99_scans_1024":               progressiveJPEG(1024, 1024, 99),
		"FuzzProgressiveJPEG/pil_progressive_colour":      progressive,
		"FuzzProgressiveJPEG/pil_progressive_cut_in_scan": progressive[:len(progressive)/2],
	}
	for name, data := range seeds {
		p := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(data))+")\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
