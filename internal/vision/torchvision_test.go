package vision

import (
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// fixtureDir holds torchvision's outputs, written by
// testdata/torch/gen_preprocess.py.
var fixtureDir = filepath.Join("..", "..", "testdata", "torch", "preprocess")

type fixtureKind struct {
	Mode   string    `json:"mode"`
	Resize int       `json:"resize"`
	Crop   int       `json:"crop"`
	M      []float64 `json:"mean"`
	S      []float64 `json:"std"`
}

type fixtureInput struct {
	File string            `json:"file"`
	Mode string            `json:"mode"`
	Refs map[string]string `json:"refs"`
}

type fixtures struct {
	Kinds  map[string]fixtureKind `json:"kinds"`
	Inputs []fixtureInput         `json:"inputs"`
}

func loadFixtures(t testing.TB) fixtures {
	t.Helper()
	f := testutil.ReadJSON[fixtures](t, filepath.Join(fixtureDir, "manifest.json"))
	require.NotEmpty(t, f.Inputs)
	return f
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	img, _ := testutil.DecodeFile(t, path)
	return img
}

func (k fixtureKind) eval() Eval {
	c := 3
	if k.Mode == "L" {
		c = 1
	}
	return Eval{C: c, H: k.Crop, W: k.Crop, Resize: k.Resize, Mean: k.M, Std: k.S, Scale: 255}
}

// refTensor is torchvision's tensor: Normalize(ToTensor(crop)), from the
// stored 8-bit crop.
func refTensor(t testing.TB, k fixtureKind, path string) []float32 {
	p, err := Convert(decodeFile(t, path), k.eval().C)
	require.NoError(t, err)
	require.Equal(t, []int{k.Crop, k.Crop}, []int{p.H, p.W}, path)
	out := make([]float32, len(p.Pix))
	n := p.H * p.W
	for i, v := range p.Pix {
		c := i / n
		out[i] = (float32(v)/255 - float32(k.M[c])) / float32(k.S[c])
	}
	return out
}

// TestTorchvisionParity holds Eval.Apply to torchvision 0.14 + PIL on real
// photographs: PNG inputs (same pixels both sides) must agree to a mean of
// 0.01 normalised units, JPEG inputs (Go's decoder) to 0.02.
func TestTorchvisionParity(t *testing.T) {
	f := loadFixtures(t)
	type stat struct {
		sum, max float64
		n, files int
	}
	stats := map[string]*stat{}
	for _, in := range f.Inputs {
		img := decodeFile(t, filepath.Join(fixtureDir, "inputs", in.File))
		ext := filepath.Ext(in.File)[1:]
		for kind, ref := range in.Refs {
			k := f.Kinds[kind]
			t.Run(in.File+"/"+kind, func(t *testing.T) {
				got, err := k.eval().Apply(img, nil)
				require.NoError(t, err)
				want := refTensor(t, k, filepath.Join(fixtureDir, "ref", ref))
				require.Len(t, got, len(want))
				var sum, mx float64
				for i := range got {
					d := math.Abs(float64(got[i] - want[i]))
					sum += d
					mx = max(mx, d)
				}
				mean := sum / float64(len(got))
				limit := 0.01
				if ext == "jpg" {
					limit = 0.02
				}
				assert.LessOrEqual(t, mean, limit, "mean |diff| (max %.4f)", mx)
				if ext == "png" { // same pixels both sides: nothing may differ
					assert.Zero(t, mx, "largest |diff| from a PNG")
				}
				key := kind + " " + ext
				if stats[key] == nil {
					stats[key] = &stat{}
				}
				s := stats[key]
				s.sum += sum
				s.n += len(got)
				s.max = max(s.max, mx)
				s.files++
				t.Logf("mean %.5f max %.4f", mean, mx)
			})
		}
	}
	keys := make([]string, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		s := stats[k]
		fmt.Fprintf(&b, "\n%-18s %2d files  mean |diff| %.5f  max %.4f", k, s.files, s.sum/float64(s.n), s.max)
	}
	t.Log("normalised units, against torchvision 0.14:" + b.String())
}
