package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	_ "image/gif"  // --image decoders
	_ "image/jpeg" // --image decoders

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/heatmap"
	"github.com/fmixzoo/zoo/internal/maskviz"
	"github.com/fmixzoo/zoo/zoo"
)

func init() {
	register("gradcam", command{
		summary: "draw Grad-CAM explanations of models on one image: one row per model",
		run:     runGradCAM,
	})
}

// fashionTestImages is the Fashion-MNIST test set as Debian's
// dataset-fashion-mnist installs it.
const fashionTestImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

// gradcamUsage is what `zoo-train gradcam -h` prints above the flags.
const gradcamUsage = `usage: zoo-train gradcam NAME... (--image FILE | --fashion N) [--out grid.png] [flags]

Draws the FMix notebook's Grad-CAM figure: one row per model (names or wildcards such as
'lenet_fashion_*'), with the model's name, its top-1 class and probability, the input as
the model sees it (the entry's preprocessing) and the Grad-CAM map of the class over it.
Models load through the hub (ZOO_STORE, ZOO_MANIFEST, ZOO_CACHE); the network is rebuilt
from each model's ONNX weights. Grad-CAM: channel weights are the spatial means of the class
score's gradient at --layer (default the last convolutional stage: layer4 for
PreAct-ResNet18), map = ReLU(weighted sum), bilinear upsampling, scaled to [0, 1].
`

func runGradCAM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gradcam", stderr, gradcamUsage)
	imagePath := fs.String("image", "", "image file to explain (PNG, JPEG or GIF)")
	fashion := fs.Int("fashion", -1, "explain Fashion-MNIST test image N instead of --image (Debian's dataset-fashion-mnist)")
	out := fs.String("out", "gradcam.png", "figure path")
	layer := fs.String("layer", "", "layer to explain (default: each model's last convolutional stage)")
	class := fs.Int("class", -1, "class to explain (default: each model's top-1)")
	size := fs.Int("size", 112, "height and width of each drawn image in pixels")
	manifest := fs.String("manifest", "", "weights.json to read (default: ZOO_MANIFEST, else the embedded one)")
	patterns, err := parseNames(fs, args)
	if err != nil {
		return err
	}
	if (*imagePath == "") == (*fashion < 0) {
		return errors.New("give exactly one of --image FILE and --fashion N")
	}
	if *size < 8 || *size > 1024 {
		return fmt.Errorf("--size %d: want 8 to 1024 pixels", *size)
	}
	img, what, err := gradcamImage(*imagePath, *fashion)
	if err != nil {
		return err
	}
	m, names, err := resolveModels(ctx, *manifest, patterns)
	if err != nil {
		return err
	}
	opts := []hub.Option{hub.WithManifest(m)}
	var rows []image.Image
	for _, name := range names {
		row, err := gradcamRow(ctx, name, img, *layer, *class, *size, opts)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		fmt.Fprintf(stdout, "%s\n", row.caption)
	}
	fig := heatmap.Column(4, append([]image.Image{heatmap.Label("Grad-CAM of "+what, 3*(*size), 20)}, rows...)...)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, fig); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d models)\n", *out, len(rows))
	return nil
}

// gradcamImage reads --image or Fashion-MNIST test image n.
func gradcamImage(path string, n int) (image.Image, string, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		cfg, _, err := image.DecodeConfig(f)
		if err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", path, err)
		}
		if int64(cfg.Width)*int64(cfg.Height) > 40_000_000 {
			return nil, "", fmt.Errorf("%s: %d×%d pixels is more than 40 million", path, cfg.Width, cfg.Height)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, "", err
		}
		img, _, err := image.Decode(f)
		if err != nil {
			return nil, "", fmt.Errorf("decode %s: %w", path, err)
		}
		return img, filepath.Base(path), nil
	}
	if n > 9999 {
		return nil, "", fmt.Errorf("--fashion %d: the test set has 10000 images", n)
	}
	imgs, err := maskviz.ReadIDXImages(fashionTestImages, n+1)
	if err != nil {
		return nil, "", err
	}
	if len(imgs) <= n {
		return nil, "", fmt.Errorf("--fashion %d: %s has %d images", n, fashionTestImages, len(imgs))
	}
	g := imgs[n]
	img := image.NewGray(image.Rect(0, 0, g.W, g.H))
	for i, v := range g.Pix {
		img.Pix[i] = uint8(math.Round(255 * v))
	}
	return img, fmt.Sprintf("Fashion-MNIST test image %d", n), nil
}

type gradcamFigureRow struct {
	image.Image
	caption string
}

// gradcamRow explains img with one model: its label, input and overlay.
func gradcamRow(ctx context.Context, name string, img image.Image, layer string, class, size int, opts []hub.Option) (gradcamFigureRow, error) {
	model, err := hub.LoadContext(ctx, name, opts...)
	if err != nil {
		return gradcamFigureRow{}, err
	}
	net, err := hub.LoadNet(ctx, name, opts...)
	if err != nil {
		return gradcamFigureRow{}, err
	}
	e := model.Info()
	x, err := model.Preprocess(img)
	if err != nil {
		return gradcamFigureRow{}, fmt.Errorf("%s: preprocess: %w", name, err)
	}
	o := zoo.CAMOptions{Layer: layer}
	if class >= 0 {
		o.Classes = []int{class}
	}
	if o.Layer == "" {
		o.Layer = net.CAMLayer()
	}
	cams, err := net.GradCAM(x, 1, o)
	if err != nil {
		return gradcamFigureRow{}, fmt.Errorf("%s: %w", name, err)
	}
	cam := cams[0]
	top := hub.TopK(cam.Logits, e.Labels, 1)[0]
	var p float64
	for _, q := range hub.TopK(cam.Logits, e.Labels, len(cam.Logits)) {
		if q.Index == cam.Class {
			p = q.Probability
		}
	}
	c, h, w := e.Input.Shape[0], e.Input.Shape[1], e.Input.Shape[2]
	in := heatmap.Input(x, c, h, w, e.Input.Mean, e.Input.Std)
	over := heatmap.Overlay(in, cam.Map, 0.5)
	label := labelOf(e.Labels, cam.Class)
	caption := fmt.Sprintf("%s: %s %.1f%% (top-1 %s) at %s", name, label, 100*p, top.Label, o.Layer)
	text := heatmap.Column(0, heatmap.Label(name, 2*size, size/2), heatmap.Label(fmt.Sprintf("%s %.1f%%", label, 100*p), 2*size, size/2))
	return gradcamFigureRow{Image: heatmap.Row(size, 4, text, heatmap.Row(size, 4, in, over)), caption: caption}, nil
}

func labelOf(labels []string, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return fmt.Sprint(i)
}
