package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/fmixzoo/zoo/internal/server"
)

// brightness is a one-class-per-half model: "dark" or "light" by mean grey.
type brightness struct{}

func (brightness) Preprocess(img image.Image) ([]float32, error) {
	var sum float32
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			sum += float32(r) / 0xffff
		}
	}
	return []float32{sum / float32(b.Dx()*b.Dy())}, nil
}

func (brightness) Run(_ context.Context, x []float32, n int) ([]float32, error) {
	out := make([]float32, 0, 2*n)
	for _, v := range x[:n] {
		out = append(out, 4*(1-v), 4*v)
	}
	return out, nil
}

type oneModel struct{}

func (oneModel) List(string) []string { return []string{"brightness"} }

func (oneModel) Info(name string) (server.ModelInfo, error) {
	if name != "brightness" {
		return server.ModelInfo{}, server.ErrUnknownModel
	}
	return server.ModelInfo{Name: name, Arch: "mean", Input: []int{1, 1, 1}, Labels: []string{"dark", "light"}}, nil
}

func (oneModel) Load(context.Context, string) (server.Model, error) { return brightness{}, nil }

// A server over a catalog of one model; a white image is classified "light".
func Example() {
	srv, err := server.New(oneModel{}, server.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()

	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	var body bytes.Buffer
	_ = png.Encode(&body, img)
	resp, err := http.Post(ts.URL+"/v1/models/brightness/classify?top_k=1", "image/png", &body)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var out struct {
		Predictions [][]server.Prediction `json:"predictions"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	p := out.Predictions[0][0]
	fmt.Printf("%d %s %.3f\n", resp.StatusCode, p.Label, p.Probability)
	// Output: 200 light 0.982
}
