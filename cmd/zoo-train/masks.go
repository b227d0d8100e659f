package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/fmixzoo/zoo/fmix"
	"github.com/fmixzoo/zoo/internal/maskviz"
)

func init() {
	register("masks", command{
		summary: "draw FMix masks: a PNG figure and an animated GIF of a 3D mask",
		run:     runMasks,
	})
}

// masksUsage is what `zoo-train masks -h` prints above the flags.
const masksUsage = `usage: zoo-train masks [flags]

Writes a PNG like the FMix paper's figure (low-frequency images, their masks, two rows
of images and their mixes) and an animated GIF stepping through the slices of a 3D mask.
The images are Fashion-MNIST when Debian's dataset-fashion-mnist is installed, else
generated ones.
`

func runMasks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("masks", stderr, masksUsage)
	shape := fl.String("shape", "28x28", "2D mask shape of the figure, HxW")
	gifShape := fl.String("gif-shape", "32x32x32", "3D mask shape of the animation, DxHxW")
	decay := fl.Float64("decay", 3, "frequency decay power δ")
	alpha := fl.Float64("alpha", 1, "α of the Beta(α, α) distribution of λ")
	maxSoft := fl.Float64("max-soft", 0, "mask edge softening in [0, 0.5]")
	variant := fl.String("variant", "official", "spectrum: official (fmix.py) or isotropic (the paper)")
	seed := fl.Uint64("seed", 0, "random seed")
	columns := fl.Int("columns", 6, "masks in the figure")
	scale := fl.Int("scale", 4, "pixels per mask element")
	out := fl.String("out", "masks.png", "figure path (\"\": none)")
	gifPath := fl.String("gif", "masks.gif", "animation path (\"\": none)")
	images := fl.String("images", maskviz.FashionMNISTPath, "IDX image file to mix (missing: generated images)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	v, err := fmix.ParseVariant(*variant)
	if err != nil {
		return err
	}
	o := maskviz.Options{
		Mask:    fmix.Options{Alpha: *alpha, DecayPower: *decay, MaxSoft: *maxSoft, Variant: v, Seed: *seed},
		Columns: *columns,
		Scale:   *scale,
	}
	if o.Mask.Shape, err = parseShape(*shape); err != nil {
		return fmt.Errorf("--shape: %w", err)
	}
	g, err := parseShape(*gifShape)
	if err != nil {
		return fmt.Errorf("--gif-shape: %w", err)
	}
	if *out != "" && *images != "" {
		imgs, err := maskviz.ReadIDXImages(*images, 2*max(*columns, 1))
		switch {
		case err == nil:
			o.Images = imgs
		case errors.Is(err, fs.ErrNotExist):
			fmt.Fprintf(stderr, "zoo-train masks: %s not found (apt-get install dataset-fashion-mnist); using generated images\n", *images)
		default:
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := maskviz.WriteFiles(o, maskviz.Files{PNG: *out, GIF: *gifPath, GIFShape: g}); err != nil {
		return err
	}
	for _, p := range []string{*out, *gifPath} {
		if p != "" {
			fmt.Fprintln(stdout, "wrote", p)
		}
	}
	return nil
}

// parseShape parses "28x28" or "32,32,32".
func parseShape(s string) ([]int, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == 'x' || r == ',' || r == '×' })
	if len(parts) == 0 {
		return nil, fmt.Errorf("empty shape %q", s)
	}
	shape := make([]int, len(parts))
	for i, p := range parts {
		d, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || d < 1 {
			return nil, fmt.Errorf("shape %q: %q is not a positive size", s, p)
		}
		shape[i] = d
	}
	return shape, nil
}
