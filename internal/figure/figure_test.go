package figure

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

func TestWritePNGLaysOutPanels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig.png")
	panels := []*plot.Plot{plot.New(), plot.New(), plot.New()}
	require.NoError(t, WritePNG(path, 2, 4*vg.Inch, 3*vg.Inch, panels...))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	// Two columns, two rows (the third panel starts a row), at vgimg's 96 dpi.
	assert.Equal(t, 2*4*96, img.Bounds().Dx())
	assert.Equal(t, 2*3*96, img.Bounds().Dy())
}

func TestWritePNGRefusesNoPanels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fig.png")
	require.Error(t, WritePNG(path, 2, vg.Inch, vg.Inch))
	require.Error(t, WritePNG(path, 0, vg.Inch, vg.Inch, plot.New()))
	assert.NoFileExists(t, path)
}
