// Package figure writes gonum plots side by side as one PNG: the layout of
// zoo-train's training curves and of its robustness sweep.
package figure

import (
	"bytes"
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WritePNG draws the panels left to right and top to bottom, cols to a row,
// each w×h with a centimetre between neighbours, and writes the image to
// path as PNG.
func WritePNG(path string, cols int, w, h vg.Length, panels ...*plot.Plot) error {
	if cols < 1 || len(panels) == 0 {
		return fmt.Errorf("figure: %d panels in %d columns", len(panels), cols)
	}
	rows := (len(panels) + cols - 1) / cols
	img := vgimg.New(vg.Length(cols)*w, vg.Length(rows)*h)
	dc := draw.New(img)
	margin := 4 * vg.Millimeter
	tiles := draw.Tiles{Cols: cols, Rows: rows, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: margin, PadBottom: margin, PadLeft: margin, PadRight: margin}
	for i, p := range panels {
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("figure: encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil {
		return fmt.Errorf("figure: %w", err)
	}
	return nil
}
