package zoo

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/kernels"
)

// gradcamFixture is one entry of testdata/torch/gradcam.json, written by
// gen_gradcam.py.
type gradcamFixture struct {
	Name       string `json:"name"`
	Arch       string `json:"arch"`
	Args       Args   `json:"args"`
	PT         string `json:"pt"`
	Input      string `json:"input"`
	InputShape []int  `json:"input_shape"`
	Layer      string `json:"layer"`
	Classes    []int  `json:"classes"`
	DInput     string `json:"dinput"`
	GradCAM    string `json:"gradcam"`
}

func loadGradcamFixture(t *testing.T, fx gradcamFixture) *Net {
	t.Helper()
	f, size := openFixture(t, fx.PT)
	args := fx.Args
	args.InputSize = fx.InputShape[2]
	n, err := ImportPT(fx.Arch, args, f, size)
	require.NoError(t, err)
	return n
}

// assertMapsClose compares within tol of the largest |value| (at least 1).
func assertMapsClose(t *testing.T, want, got []float32, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	m := 1.0
	for _, v := range want {
		m = math.Max(m, math.Abs(float64(v)))
	}
	var worst float64
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(want[i]-got[i])))
	}
	assert.LessOrEqual(t, worst, tol*m, "%s: max |Δ| %g (scale %g)", what, worst, m)
	t.Logf("%s: max |Δ| %.3g (scale %.3g)", what, worst, m)
}

// Gradients and GradCAM equal PyTorch's autograd and a hook-based Grad-CAM
// (gen_gradcam.py) within 1e-4, for every fixture architecture.
func TestGradCAMMatchesPyTorch(t *testing.T) {
	fxs := testutil.ReadJSON[[]gradcamFixture](t, filepath.Join(fixtures, "gradcam.json"))
	names := map[string]bool{}
	for _, fx := range fxs {
		names[fx.Name] = true
		t.Run(fx.Name, func(t *testing.T) {
			n := loadGradcamFixture(t, fx)
			require.Equal(t, fx.Layer, n.CAMLayer())
			batch := fx.InputShape[0]
			x := readF32(t, fx.Input)
			g, err := n.Gradients(x, batch, GradOptions{Classes: fx.Classes, Input: true})
			require.NoError(t, err)
			assertMapsClose(t, readF32(t, fx.DInput), g.Input, 1e-4, "d input")

			cams, err := n.GradCAM(x, batch, CAMOptions{Classes: fx.Classes})
			require.NoError(t, err)
			want := readF32(t, fx.GradCAM)
			h, w := fx.InputShape[2], fx.InputShape[3]
			require.Len(t, cams, batch)
			for i, c := range cams {
				assert.Equal(t, fx.Classes[i], c.Class)
				require.Equal(t, []int{h, w}, []int{c.H, c.W})
				assertMapsClose(t, want[i*h*w:(i+1)*h*w], c.Map, 1e-4, "map")
			}
		})
	}
	for _, want := range []string{"lenet", "preact_resnet18", "pyramidnet", "resnet18"} {
		assert.True(t, names[want], "gradcam.json covers %s", want)
	}
}

// Without classes, GradCAM explains each row's top-1 class: the same maps
// as naming those classes.
func TestGradCAMTop1(t *testing.T) {
	n, err := Build("preact_resnet18", Args{Width: 4, InputSize: 16})
	require.NoError(t, err)
	x := readF32(t, "preact_resnet18.input.f32")[:2*3*16*16]
	top, err := n.GradCAM(x, 2, CAMOptions{})
	require.NoError(t, err)
	logits, err := n.Forward(x, 2)
	require.NoError(t, err)
	classes := []int{kernels.Argmax(logits[:10]), kernels.Argmax(logits[10:])}
	named, err := n.GradCAM(x, 2, CAMOptions{Classes: classes, Layer: "layer4"})
	require.NoError(t, err)
	for i := range top {
		assert.Equal(t, classes[i], top[i].Class)
		assert.Equal(t, named[i].Map, top[i].Map)
		assert.Equal(t, logits[i*10:(i+1)*10], top[i].Logits)
	}
	_, err = n.GradCAM(x, 2, CAMOptions{Layer: "layer9"})
	require.ErrorIs(t, err, ErrUnknownLayer)
	_, err = n.GradCAM(x, 2, CAMOptions{Layer: "linear"})
	require.ErrorIs(t, err, ErrInput, "a 2-D layer has no map")
}

func TestUpsample(t *testing.T) {
	for _, tc := range []struct {
		name           string
		src            []float32
		sh, sw, dh, dw int
		want           []float32
	}{
		{"same size", []float32{1, 2, 3, 4}, 2, 2, 2, 2, []float32{1, 2, 3, 4}},
		// F.interpolate(torch.tensor([[[[0., 4.]]]]), size=(1, 4), mode='bilinear', align_corners=False)
		{"1x2 to 1x4", []float32{0, 4}, 1, 2, 1, 4, []float32{0, 1, 3, 4}},
		{"1x1 to 2x3", []float32{5}, 1, 1, 2, 3, []float32{5, 5, 5, 5, 5, 5}},
		// ... size=(1, 3) from [0, 3]: source x = 2/3·(d+0.5) − 0.5 → 0 (clamped), 0.5, 1.1667 → 1 (clamped index)
		{"1x2 to 1x3", []float32{0, 3}, 1, 2, 1, 3, []float32{0, 1.5, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, tc.dh*tc.dw)
			Upsample(dst, tc.dh, tc.dw, tc.src, tc.sh, tc.sw)
			assert.InDeltaSlice(t, tc.want, dst, 1e-6)
		})
	}
}
