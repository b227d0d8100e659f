package server

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// progressiveJPEG writes a grey progressive JPEG of w×h whose scans are all
// "empty": AC scans whose only symbols are end-of-band runs of 32767
// blocks. Each costs a few dozen bytes and makes Go's decoder visit (and
// copy) every block of the frame, so decoding time grows with scans ×
// pixels: the CPU bomb of issue 18 (1,000 such scans over 6320² took 14 s).
func progressiveJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, payload ...byte) {
		b.Write([]byte{0xff, marker})
		_ = binary.Write(&b, binary.BigEndian, uint16(len(payload)+2))
		b.Write(payload)
	}
	b.Write([]byte{0xff, 0xd8})
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt...)
	seg(0xc2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)
	counts := make([]byte, 16)
	counts[0] = 1                                               // one code of length 1: "0"
	seg(0xc4, append(append([]byte{0x00}, counts...), 0x00)...) // DC: category 0
	seg(0xc4, append(append([]byte{0x10}, counts...), 0xe0)...) // AC: EOB run 2^14 + 14 bits
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	for range scans {
		seg(0xda, 1, 1, 0x00, 1, 63, 0x00) // one component, AC 1..63, first pass
		var bits uint64
		var n uint
		var out []byte
		put := func(v uint64, k uint) {
			bits, n = bits<<k|v, n+k
			for n >= 8 {
				c := byte(bits >> (n - 8))
				out = append(out, c)
				if c == 0xff {
					out = append(out, 0)
				}
				n -= 8
			}
		}
		for left := blocks; left > 0; left -= 32767 {
			put(0, 1)                // the EOB14 symbol
			put(uint64(1<<14-1), 14) // run = 2^14 + 16383 = 32767 blocks
		}
		if n > 0 {
			put(1<<(8-n)-1, 8-n) // pad with ones
		}
		b.Write(out)
	}
	b.Write([]byte{0xff, 0xd9})
	return b.Bytes()
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/hostile/" + name)
	require.NoError(t, err)
	return b
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestJPEGScans(t *testing.T) {
	var baseline bytes.Buffer
	require.NoError(t, jpeg.Encode(&baseline, image.NewRGBA(image.Rect(0, 0, 40, 30)), nil))
	tests := []struct {
		name        string
		data        []byte
		scans       int
		progressive bool
	}{
		{"baseline", baseline.Bytes(), 1, false},
		{"PIL progressive colour", readFixture(t, "progressive.jpg"), 10, true},
		{"PIL progressive grey", readFixture(t, "progressive_grey.jpg"), 6, true},
		{"empty scans", progressiveJPEG(64, 64, 1000), 1000, true},
		{"no EOI", bytes.TrimSuffix(progressiveJPEG(64, 64, 5), []byte{0xff, 0xd9}), 5, true},
		{"cut in a segment", progressiveJPEG(64, 64, 5)[:100], 0, true},
		{"no segments", []byte{0xff, 0xd8}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scans, progressive := jpegScans(tt.data)
			assert.Equal(t, tt.scans, scans)
			assert.Equal(t, tt.progressive, progressive)
		})
	}
	// The crafted bomb is a valid JPEG: Go decodes it.
	_, err := jpeg.Decode(bytes.NewReader(progressiveJPEG(64, 48, 3)))
	require.NoError(t, err)
}

// TestDecodeBytesBoundAllocations: what decodeBytes charges for an image
// is at least what decoding it allocates, for every format and pixel type
// the decoders return.
func TestDecodeBytesBoundAllocations(t *testing.T) {
	const w, h = 640, 480
	rect := image.Rect(0, 0, w, h)
	fill := func(img interface {
		image.Image
		Set(x, y int, c color.Color)
	}) image.Image {
		for y := range h {
			for x := range w {
				img.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x ^ y), uint8(x + y)})
			}
		}
		return img
	}
	enc := func(f func(io.Writer, image.Image) error, img image.Image) []byte {
		var buf bytes.Buffer
		require.NoError(t, f(&buf, img))
		return buf.Bytes()
	}
	jpegEnc := func(w io.Writer, img image.Image) error { return jpeg.Encode(w, img, nil) }
	gifEnc := func(w io.Writer, img image.Image) error { return gif.Encode(w, img, nil) }
	tests := []struct {
		name string
		data []byte
	}{
		{"png grey", encodePNG(fill(image.NewGray(rect)))},
		{"png grey16", encodePNG(fill(image.NewGray16(rect)))},
		{"png paletted", encodePNG(fill(image.NewPaletted(rect, palette.Plan9)))},
		{"png nrgba", encodePNG(fill(image.NewNRGBA(rect)))},
		{"png nrgba64", encodePNG(fill(image.NewNRGBA64(rect)))},
		{"jpeg ycbcr", enc(jpegEnc, fill(image.NewRGBA(rect)))},
		{"jpeg grey", enc(jpegEnc, fill(image.NewGray(rect)))},
		{"jpeg progressive", readFixture(t, "progressive.jpg")},
		{"jpeg progressive grey", readFixture(t, "progressive_grey.jpg")},
		{"jpeg empty scans", progressiveJPEG(w, h, 20)},
		{"gif", enc(gifEnc, fill(image.NewRGBA(rect)))},
		{"bmp", enc(bmp.Encode, fill(image.NewNRGBA(rect)))},
		{"webp lossless", readFixture(t, "lossless.webp")},
		{"webp lossy", readFixture(t, "lossy.webp")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr, err := inspectImage(tt.data, imageLimits{maxPixels: 1 << 30, maxScans: 100})
			require.NoError(t, err)
			var img image.Image
			allocated := int64(testutil.LeastAllocated(3, func() {
				img, err = decodePixels(context.Background(), tt.data, hdr)
			}))
			require.NoError(t, err)
			require.Equal(t, image.Pt(hdr.cfg.Width, hdr.cfg.Height), img.Bounds().Size())
			charged := hdr.decodeBytes()
			t.Logf("%s %T: allocated %.2f B/px, charged %.2f B/px", tt.name, img,
				float64(allocated)/float64(w*h), float64(charged)/float64(w*h))
			assert.LessOrEqual(t, allocated, charged)
		})
	}
}

// imageParts is a multipart/form-data body of "image" fields.
func imageParts(t testing.TB, files ...[]byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i, f := range files {
		w, err := mw.CreateFormFile("image", fmt.Sprintf("img%d", i))
		require.NoError(t, err)
		_, err = w.Write(f)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

var zeroPNGs sync.Map // [4]int{w, h, ct, depth} → []byte

// zeroPNG writes a w×h PNG of zero pixels (colour type ct, bit depth
// depth) by compressing zero rows as they go, so that a large frame costs
// the test only its compressed size. Each is made once per test binary.
func zeroPNG(t testing.TB, w, h int, ct, depth byte) []byte {
	t.Helper()
	key := [4]int{w, h, int(ct), int(depth)}
	if b, ok := zeroPNGs.Load(key); ok {
		return b.([]byte)
	}
	b := makeZeroPNG(t, w, h, ct, depth)
	zeroPNGs.Store(key, b)
	return b
}

func makeZeroPNG(t testing.TB, w, h int, ct, depth byte) []byte {
	var buf bytes.Buffer
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		_ = binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	chunk("IHDR", append(ihdr, depth, ct, 0, 0, 0))
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[ct]
	row := make([]byte, 1+(w*channels*int(depth)+7)/8)
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	require.NoError(t, err)
	for range h {
		_, _ = zw.Write(row)
	}
	require.NoError(t, zw.Close())
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

// heapPeak samples the Go heap in use every millisecond until stop is
// called, which returns the largest growth seen over the heap at the start.
func heapPeak() (stop func() int64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse)
	var peak atomic.Int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if g := int64(ms.HeapInuse) - base; g > peak.Load() {
				peak.Store(g)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// TestHostileImages: the bodies of issue 18, one request each against the
// default limits: each answers a 4xx with a clear message, quickly, and
// the heap grows by at most what the request is allowed.
func TestHostileImages(t *testing.T) {
	cat := newFakeCatalog("m")
	cat.configure = func(m *fakeModel) {}
	s, ts := newTestServer(t, cat, Config{})
	webp := readFixture(t, "bomb_6320.webp")
	webps, ctWebps := imageParts(t, slices.Repeat([][]byte{webp}, 3)...)
	rgba16 := zeroPNG(t, 6320, 6320, 6, 16)
	pngs := make([][]byte, 100)
	for i := range pngs {
		pngs[i] = zeroPNG(t, 1000, 1000, 6, 8)
	}
	hundred, ctHundred := imageParts(t, pngs...)
	tests := []struct {
		name    string
		body    []byte
		ct      string
		status  int
		msg     string
		maxHeap int64
	}{
		// Each fits the budget alone (with the fake model's 4×4 input): they
		// are decoded one after the other, so the heap holds one at a time.
		{"3 lossless WebPs of 6320²", webps, ctWebps, 200, "", 600 << 20},
		{"16-bit RGBA PNG of 6320²", rgba16, "image/png", 413, "--decode-memory", 64 << 20},
		{"1×39e6 grey PNG (resize bomb)", zeroPNG(t, 1, 39_000_000, 0, 8), "image/png", 413, "needs", 64 << 20},
		{"progressive JPEG, 1000 empty scans over 6320²", progressiveJPEG(6320, 6320, 1000), "image/jpeg", 400, "1000 scans, more than the limit of 100", 64 << 20},
		// Decoded one at a time: the heap holds about one image (4 MB of
		// pixels, 4 MB of planes), not a hundred.
		{"100 RGBA PNGs of 1000²", hundred, ctHundred, 200, "", 96 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Logf("body: %d bytes", len(tt.body))
			stop := heapPeak()
			start := time.Now()
			r := do(t, "POST", ts.URL+"/v1/models/m/classify", tt.body, "Content-Type", tt.ct)
			peak := stop()
			t.Logf("%d in %v, heap growth %d MiB: %.200s", r.status, time.Since(start), peak>>20, r.body)
			require.Equal(t, tt.status, r.status, "body: %.300s", r.body)
			if tt.msg != "" {
				assert.Contains(t, r.json(t)["error"], tt.msg)
			}
			assert.Less(t, peak, tt.maxHeap)
			assert.Zero(t, s.budget.inUse(), "every charge released")
		})
	}
}

// TestConcurrentHostileRequests: 50 hostile requests at once (pixel and
// resize bombs, WebP bombs, 16-bit PNGs that fit the budget, progressive
// JPEG scan floods, 16 MiB v2 bodies, huge values) while four clients send
// good requests: the process's heap stays under 1 GiB, every hostile
// request gets its answer, and no good request fails.
func TestConcurrentHostileRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s, ts := newTestServer(t, newFakeCatalog("m"), Config{RequestTimeout: 20 * time.Second})
	webp := readFixture(t, "bomb_6320.webp")
	rgba16 := zeroPNG(t, 2000, 2000, 6, 16) // 64 MB decoded: fits, a few at a time
	huge := make([]float32, 16)
	for i := range huge {
		huge[i] = 3e38
	}
	bigJSON := []byte(`{"inputs":[{"name":"input","shape":[1,1,4,4],"datatype":"FP32","data":[` +
		strings.Repeat("0,", 8<<20) + `0]}]}`) // 16 MiB of numbers: a 400 after parsing
	type hostile struct {
		path, ct string
		body     []byte
	}
	webps, ctWebps := imageParts(t, webp, webp)
	kinds := []hostile{
		{"/v1/models/m/classify", "image/png", zeroPNG(t, 6320, 6320, 6, 16)},
		{"/v1/models/m/classify", "image/png", zeroPNG(t, 1, 39_000_000, 0, 8)},
		{"/v1/models/m/classify", ctWebps, webps},
		{"/v1/models/m/classify", "image/png", rgba16},
		{"/v1/models/m/classify", "image/jpeg", progressiveJPEG(6320, 6320, 1000)},
		{"/v2/models/m/infer", "application/json", bigJSON},
		{"/v2/models/m/infer", "application/json", inferJSON(t, []int{1, 1, 4, 4}, huge, "")},
	}
	stop := heapPeak()
	start := time.Now()
	var hostileWG, goodWG sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		h := kinds[i%len(kinds)]
		hostileWG.Go(func() {
			r, err := http.Post(ts.URL+h.path, h.ct, bytes.NewReader(h.body))
			if err != nil {
				t.Errorf("hostile %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			statuses[i] = r.StatusCode
		})
	}
	done := make(chan struct{})
	var good, goodFailed atomic.Int64
	for range 4 {
		goodWG.Go(func() {
			png := greyPNG(8, 8, 0, 255)
			for {
				select {
				case <-done:
					return
				default:
				}
				r, err := http.Post(ts.URL+"/v1/models/m/classify", "image/png", bytes.NewReader(png))
				good.Add(1)
				if err != nil {
					goodFailed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode != http.StatusOK {
					goodFailed.Add(1)
					t.Logf("good request: %d", r.StatusCode)
				}
			}
		})
	}
	hostileWG.Wait()
	close(done)
	goodWG.Wait()
	peak := stop()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	t.Logf("50 hostile requests in %v: statuses %v; heap growth peak %d MiB; good requests %d, failed %d",
		time.Since(start), counts, peak>>20, good.Load(), goodFailed.Load())
	for i, st := range statuses {
		assert.Contains(t, []int{200, 400, 413, 422, 503}, st, "hostile request %d", i)
	}
	assert.Less(t, peak, int64(1<<30))
	assert.Positive(t, good.Load())
	assert.Zero(t, goodFailed.Load())
	assert.Zero(t, s.budget.inUse())
}
