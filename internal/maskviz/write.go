package maskviz

import (
	"fmt"
	"image/gif"
	"image/png"
	"io"
	"os"
)

// Files names the outputs of WriteFiles.
type Files struct {
	// PNG is the figure's path ("" skips it).
	PNG string
	// GIF is the animation's path ("" skips it).
	GIF string
	// GIFShape is the 3D mask shape of the animation.
	GIFShape []int
}

// WriteFigure encodes Figure(o) as PNG to w.
func WriteFigure(w io.Writer, o Options) error {
	img, err := Figure(o)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("maskviz: encode figure: %w", err)
	}
	return nil
}

// WriteGIF encodes SliceGIF(o) to w.
func WriteGIF(w io.Writer, o Options) error {
	anim, err := SliceGIF(o)
	if err != nil {
		return err
	}
	if err := gif.EncodeAll(w, anim); err != nil {
		return fmt.Errorf("maskviz: encode animation: %w", err)
	}
	return nil
}

// WriteFiles writes the figure (o's 2D shape) and the animation (o with
// f.GIFShape) to the paths in f.
func WriteFiles(o Options, f Files) error {
	if f.PNG != "" {
		if err := writeFile(f.PNG, func(w io.Writer) error { return WriteFigure(w, o) }); err != nil {
			return err
		}
	}
	if f.GIF != "" {
		g := o
		g.Mask.Shape = f.GIFShape
		if err := writeFile(f.GIF, func(w io.Writer) error { return WriteGIF(w, g) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("maskviz: %w", err)
	}
	if err := write(out); err != nil {
		out.Close()
		os.Remove(path)
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("maskviz: write %s: %w", path, err)
	}
	return nil
}
