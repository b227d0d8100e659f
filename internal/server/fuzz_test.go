package server

import (
	"errors"
	"testing"
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
