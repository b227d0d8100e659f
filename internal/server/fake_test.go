package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// fakeCatalog serves fakeModels: 1×4×4 inputs, three classes "dark",
// "light" and "left". Its logits are a fixed function of the input, so a
// test can compute what each image must get.
type fakeCatalog struct {
	mu      sync.Mutex
	names   []string
	loads   map[string]int
	models  map[string]*fakeModel
	loadErr error // returned by the next Load, then cleared
	// configure, when set, adjusts each model as it is loaded.
	configure func(*fakeModel)
}

func newFakeCatalog(names ...string) *fakeCatalog {
	sort.Strings(names)
	return &fakeCatalog{names: names, loads: map[string]int{}, models: map[string]*fakeModel{}}
}

var fakeLabels = []string{"dark", "light", "left"}

func (c *fakeCatalog) List(pattern string) []string {
	if pattern == "" {
		pattern = "*"
	}
	var out []string
	for _, n := range c.names {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out
}

func (c *fakeCatalog) Info(name string) (ModelInfo, error) {
	for _, n := range c.names {
		if n == name {
			return ModelInfo{Name: name, Arch: "fake", Dataset: "fake_set", MSDA: "fmix", Input: []int{1, 4, 4}, Labels: fakeLabels}, nil
		}
	}
	return ModelInfo{}, fmt.Errorf("fake: %q: %w", name, ErrUnknownModel)
}

func (c *fakeCatalog) Load(_ context.Context, name string) (Model, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.loadErr; err != nil {
		c.loadErr = nil
		return nil, err
	}
	c.loads[name]++
	m := &fakeModel{}
	if c.configure != nil {
		c.configure(m)
	}
	c.models[name] = m
	return m, nil
}

func (c *fakeCatalog) loadCount(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loads[name]
}

func (c *fakeCatalog) model(name string) *fakeModel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.models[name]
}

type fakeModel struct {
	delay     time.Duration
	gate      chan struct{} // when set, Run waits for a value on it
	panicPrep bool

	entered atomic.Int32 // calls of Run so far, counted on entry

	mu      sync.Mutex
	batches []int
}

// Preprocess samples a 4×4 grid of grey values in [0, 1].
func (m *fakeModel) Preprocess(img image.Image) ([]float32, error) {
	if m.panicPrep {
		panic("fake preprocess panic")
	}
	return fakePixels(img), nil
}

func fakePixels(img image.Image) []float32 {
	b := img.Bounds()
	out := make([]float32, 16)
	for y := range 4 {
		for x := range 4 {
			g := color.GrayModel.Convert(img.At(b.Min.X+x*b.Dx()/4, b.Min.Y+y*b.Dy()/4)).(color.Gray)
			out[y*4+x] = float32(g.Y) / 255
		}
	}
	return out
}

// fakeLogits is the model's function of one input: dark, light, left-heavy.
func fakeLogits(x []float32) []float32 {
	var sum, left float32
	for i, v := range x {
		sum += v
		if i%4 < 2 {
			left += v
		}
	}
	mean := sum / 16
	return []float32{4 * (1 - mean), 4 * mean, 8*left/16 - 2*mean}
}

func (m *fakeModel) Run(ctx context.Context, x []float32, n int) ([]float32, error) {
	m.entered.Add(1)
	if len(x) != n*16 {
		return nil, errors.New("fake: wrong input size")
	}
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	time.Sleep(m.delay)
	m.mu.Lock()
	m.batches = append(m.batches, n)
	m.mu.Unlock()
	out := make([]float32, 0, 3*n)
	for i := range n {
		out = append(out, fakeLogits(x[i*16:(i+1)*16])...)
	}
	return out, nil
}

func (m *fakeModel) batchSizes() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...)
}

// grey returns a w×h PNG whose left half is grey level left and right half right.
func greyPNG(w, h int, left, right uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := right
			if x < w/2 {
				v = left
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
