package data

import (
	"fmt"
	"image"
	_ "image/jpeg" // JPEG decoding for image folders
	_ "image/png"  // PNG decoding for image folders
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/internal/vision"
)

// folderDataset is an ImageNet-style tree: one subfolder per class (sorted
// names give the label indices, as torchvision's ImageFolder does), JPEG or
// PNG files inside. Images are decoded on demand.
type folderDataset struct {
	paths   []string
	labels  []int
	classes []string
}

// OpenFolder indexes an ImageNet-style folder: dir/CLASS/IMAGE.{jpg,jpeg,png}.
func OpenFolder(dir string) (Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: read image folder %s (want one subfolder per class): %w: %w", dir, ErrDataset, err)
	}
	d := &folderDataset{}
	for _, e := range entries {
		if e.IsDir() {
			d.classes = append(d.classes, e.Name())
		}
	}
	sort.Strings(d.classes)
	for label, class := range d.classes {
		if err := d.addFolder(filepath.Join(dir, class), label, "class"); err != nil {
			return nil, err
		}
	}
	if len(d.paths) == 0 {
		return nil, fmt.Errorf("data: image folder %s: no JPEG or PNG files in class subfolders: %w", dir, ErrDataset)
	}
	return d, nil
}

// addFolder adds the JPEG and PNG files in folder (a class's or a
// synset's, as kind says) with the label.
func (d *folderDataset) addFolder(folder string, label int, kind string) error {
	files, err := os.ReadDir(folder)
	if err != nil {
		return fmt.Errorf("data: read %s folder %s: %w: %w", kind, folder, ErrDataset, err)
	}
	for _, f := range files {
		switch strings.ToLower(filepath.Ext(f.Name())) {
		case ".jpg", ".jpeg", ".png":
			d.paths = append(d.paths, filepath.Join(folder, f.Name()))
			d.labels = append(d.labels, label)
		}
	}
	return nil
}

func (d *folderDataset) Len() int        { return len(d.paths) }
func (d *folderDataset) NumClasses() int { return len(d.classes) }

// Files lists the folder's images without digests: hashing an ImageNet-sized
// tree for provenance would take longer than the run it describes.
func (d *folderDataset) Files() []FileDigest { return nil }

func (d *folderDataset) Example(i int) (Example, error) {
	if i < 0 || i >= len(d.paths) {
		return Example{}, fmt.Errorf("data: example %d out of range [0,%d)", i, len(d.paths))
	}
	f, err := os.Open(d.paths[i])
	if err != nil {
		return Example{}, fmt.Errorf("data: open image %s: %w: %w", d.paths[i], ErrDataset, err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return Example{}, fmt.Errorf("data: decode %s (want JPEG or PNG): %w: %w", d.paths[i], ErrDataset, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > vision.MaxPixels {
		return Example{}, fmt.Errorf("data: decode %s: %d×%d pixels (want 1 to %d): %w", d.paths[i], cfg.Width, cfg.Height, vision.MaxPixels, ErrDataset)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Example{}, fmt.Errorf("data: read %s: %w: %w", d.paths[i], ErrDataset, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return Example{}, fmt.Errorf("data: decode %s (want JPEG or PNG): %w: %w", d.paths[i], ErrDataset, err)
	}
	ex, err := ImageToExample(img)
	if err != nil {
		return Example{}, fmt.Errorf("data: %s: %w: %w", d.paths[i], ErrDataset, err)
	}
	ex.Label = d.labels[i]
	return ex, nil
}

// ImageToExample converts an image to 8-bit RGB planes as PIL's
// convert("RGB") would (a decoded colour JPEG as libjpeg upsamples and
// converts it): internal/vision.Convert.
func ImageToExample(img image.Image) (Example, error) {
	p, err := vision.Convert(img, 3)
	if err != nil {
		return Example{}, fmt.Errorf("data: %w", err)
	}
	return Example{Pix: p.Pix, C: 3, H: p.H, W: p.W}, nil
}

// ExampleImage wraps an example as an image.Image (grey or RGBA), the form
// hub's preprocessing takes.
func ExampleImage(ex Example) image.Image {
	r := image.Rect(0, 0, ex.W, ex.H)
	if ex.C == 1 {
		return &image.Gray{Pix: ex.Pix, Stride: ex.W, Rect: r}
	}
	img := image.NewRGBA(r)
	plane := ex.H * ex.W
	for i := 0; i < plane; i++ {
		img.Pix[4*i] = ex.Pix[i]
		img.Pix[4*i+1] = ex.Pix[plane+i]
		img.Pix[4*i+2] = ex.Pix[2*plane+i]
		img.Pix[4*i+3] = 255
	}
	return img
}
