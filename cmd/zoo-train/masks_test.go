package main

import (
	"bytes"
	"image/gif"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

func TestMasksCommand(t *testing.T) {
	dir := t.TempDir()
	out, anim := filepath.Join(dir, "f.png"), filepath.Join(dir, "a.gif")
	var stdout, stderr bytes.Buffer
	code := run([]string{"masks", "--shape", "20x24", "--gif-shape", "6x8x10", "--columns", "3", "--scale", "2",
		"--decay", "2", "--alpha", "0.5", "--variant", "isotropic", "--seed", "9", "--out", out, "--gif", anim,
		"--images", filepath.Join(dir, "missing.gz")}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stderr.String(), "using generated images")

	img, format := testutil.DecodeFile(t, out)
	require.Equal(t, "png", format)
	assert.Equal(t, 3*(24*2+4)+4, img.Bounds().Dx())
	assert.Equal(t, 5*(20*2+4)+4, img.Bounds().Dy())

	g, err := os.Open(anim)
	require.NoError(t, err)
	defer g.Close()
	a, err := gif.DecodeAll(g)
	require.NoError(t, err)
	assert.Len(t, a.Image, 6)

	for _, args := range [][]string{
		{"masks", "--shape", "0x3"},
		{"masks", "--variant", "paper"},
		{"masks", "--out", filepath.Join(dir, "x.png"), "--gif", "", "--shape", "8x8x8"},
		{"masks", "--alpha", "-1", "--out", filepath.Join(dir, "y.png"), "--gif", ""},
	} {
		stderr.Reset()
		assert.Equal(t, 1, run(args, &stdout, &stderr), "%v", args)
		assert.NotEmpty(t, stderr.String())
	}
}
