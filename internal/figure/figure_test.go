package figure

import (
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

func TestWritePNGLaysOutPanels(t *testing.T) {
	path := t.TempDir() + "/fig.png"
	require.NoError(t, WritePNG(path, 2, 4*vg.Inch, 3*vg.Inch, plot.New(), plot.New(), plot.New()))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err)
	// Two columns, two rows (the third panel starts a row), at vgimg's 96 dpi.
	require.Equal(t, [2]int{2 * 4 * 96, 2 * 3 * 96}, [2]int{cfg.Width, cfg.Height})
}

func TestWritePNGRefusesNoPanels(t *testing.T) {
	path := t.TempDir() + "/fig.png"
	require.Error(t, WritePNG(path, 2, vg.Inch, vg.Inch))
	require.Error(t, WritePNG(path, 0, vg.Inch, vg.Inch, plot.New()))
	require.NoFileExists(t, path)
}
