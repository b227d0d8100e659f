package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// gradcam draws one row per shipped LeNet (ONNX weights in the binary's
// store): the figure's size follows the layout and each row's caption
// names the model and the explained layer.
func TestGradCAMCommand(t *testing.T) {
	t.Setenv("ZOO_CACHE", t.TempDir())
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 4; y < 24; y++ {
		for x := 6; x < 22; x++ {
			img.SetGray(x, y, color.Gray{Y: 200})
		}
	}
	in := filepath.Join(dir, "in.png")
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	require.NoError(t, os.WriteFile(in, buf.Bytes(), 0o644))
	out := filepath.Join(dir, "fig", "grid.png")

	var stdout, stderr bytes.Buffer
	err := runGradCAM(context.Background(), []string{"lenet_fashion_*", "--image", in, "--out", out, "--size", "56"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 6, stdout.String())
	for _, l := range lines[:5] {
		assert.Regexp(t, `^lenet_fashion_\w+: .+ \d+\.\d% \(top-1 .+\) at conv2$`, l)
	}
	fig, format := testutil.DecodeFile(t, out)
	require.Equal(t, "png", format)
	const size, rows = 56, 5
	assert.Equal(t, 20+rows*(size+4), fig.Bounds().Dy())
	assert.Equal(t, 2*size+4+size+4+size, fig.Bounds().Dx())

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no names", []string{"--image", in}, "no model names"},
		{"no image", []string{"lenet_fashion_fmix"}, "exactly one of"},
		{"two images", []string{"lenet_fashion_fmix", "--image", in, "--fashion", "1"}, "exactly one of"},
		{"unknown model", []string{"no_such_*", "--image", in}, "no model matches"},
		{"bad layer", []string{"lenet_fashion_fmix", "--image", in, "--layer", "layer4", "--out", out}, "unknown layer"},
		{"bad class", []string{"lenet_fashion_fmix", "--image", in, "--class", "10", "--out", out}, "outside"},
		{"not an image", []string{"lenet_fashion_fmix", "--image", out + ".missing"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			err := runGradCAM(context.Background(), tc.args, &o, &e)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
