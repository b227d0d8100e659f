package data

import (
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

var unitNorm = Norm{Mean: []float32{0}, Std: []float32{1.0 / 255}} // pixel values unchanged

func TestCropFlip(t *testing.T) {
	ex := Example{Pix: []uint8{1, 2, 3, 4}, C: 1, H: 2, W: 2}
	// Without randomness: a centred, unflipped crop.
	out := make([]float32, 4)
	require.NoError(t, CropFlip{C: 1, Size: 2, Norm: unitNorm}.Apply(ex, nil, out))
	assert.InDeltaSlice(t, []float32{1, 2, 3, 4}, out, 1e-4)

	// Every random crop of the padded image is a window of it, zero outside.
	tf := CropFlip{C: 1, Size: 2, Pad: 1, Flip: true, Norm: unitNorm}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[[4]float32]bool{}
	for i := 0; i < 400; i++ {
		require.NoError(t, tf.Apply(ex, rng, out))
		seen[[4]float32(out)] = true
	}
	// 3×3 offsets × 2 flips, some coinciding; the unpadded image and its mirror must appear.
	assert.True(t, seen[[4]float32{1, 2, 3, 4}])
	assert.True(t, seen[[4]float32{2, 1, 4, 3}])
	assert.True(t, seen[[4]float32{0, 0, 0, 1}], "top-left offset shows the zero padding")
	assert.LessOrEqual(t, len(seen), 18)

	// Normalisation.
	require.NoError(t, CropFlip{C: 1, Size: 2, Norm: FashionMNISTNorm}.Apply(Example{Pix: []uint8{0, 255, 0, 0}, C: 1, H: 2, W: 2}, nil, out))
	assert.InDelta(t, -0.1307/0.3081, out[0], 1e-5)
	assert.InDelta(t, (1-0.1307)/0.3081, out[1], 1e-5)
}

func TestEval(t *testing.T) {
	// 4×2 grey image resized so the shorter side is 2 (a no-op) and
	// centre-cropped to 2×2.
	ex := Example{Pix: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, C: 1, H: 2, W: 4}
	out := make([]float32, 4)
	require.NoError(t, Eval{C: 1, Resize: 2, Crop: 2, Norm: unitNorm}.Apply(ex, nil, out))
	assert.InDeltaSlice(t, []float32{2, 3, 6, 7}, out, 1e-4)

	// Downscaling a constant image stays constant; grey becomes RGB.
	flat := Example{Pix: make([]uint8, 16), C: 1, H: 4, W: 4}
	for i := range flat.Pix {
		flat.Pix[i] = 100
	}
	rgb := make([]float32, 3*2*2)
	norm3 := Norm{Mean: []float32{0, 0, 0}, Std: []float32{1.0 / 255, 1.0 / 255, 1.0 / 255}}
	require.NoError(t, Eval{C: 3, Resize: 2, Crop: 2, Norm: norm3}.Apply(flat, nil, rgb))
	for _, v := range rgb {
		assert.InDelta(t, 100, v, 1e-3)
	}
	assert.Error(t, Eval{C: 1, Resize: 2, Crop: 3, Norm: unitNorm}.Apply(ex, nil, out))
	assert.Error(t, Eval{C: 1, Resize: 2, Crop: 2, Norm: Norm{}}.Apply(ex, nil, out))
}

func TestRandomResizedCrop(t *testing.T) {
	ex := Example{Pix: make([]uint8, 3*40*30), C: 3, H: 40, W: 30}
	for i := range ex.Pix {
		ex.Pix[i] = 50
	}
	tf := RandomResizedCrop{Size: 8, Norm: Norm{Mean: []float32{0, 0, 0}, Std: []float32{1.0 / 255, 1.0 / 255, 1.0 / 255}}}
	out := make([]float32, OutLen(tf))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		require.NoError(t, tf.Apply(ex, rng, out))
		for _, v := range out {
			require.InDelta(t, 50, v, 1e-3)
		}
	}
}

func TestLoaderReproducible(t *testing.T) {
	n := 37
	ds := &memDataset{pix: make([]uint8, n*4), labels: make([]int, n), c: 1, h: 2, w: 2, classes: 10}
	for i := range ds.labels {
		ds.labels[i] = i % 10
		for j := 0; j < 4; j++ {
			ds.pix[i*4+j] = uint8(i)
		}
	}
	tf := CropFlip{C: 1, Size: 2, Pad: 1, Flip: true, Norm: unitNorm}
	collect := func(workers int, epoch int) ([][]float32, []int) {
		l, err := NewLoader(ds, tf, LoaderOptions{BatchSize: 8, Shuffle: true, Workers: workers, Prefetch: 3, Seed: 42})
		require.NoError(t, err)
		var xs [][]float32
		var labels []int
		for b, err := range l.Epoch(context.Background(), epoch) {
			require.NoError(t, err)
			xs = append(xs, b.X)
			labels = append(labels, b.Labels...)
		}
		require.Len(t, xs, l.NumBatches())
		return xs, labels
	}
	x1, l1 := collect(1, 0)
	x4, l4 := collect(4, 0)
	assert.Equal(t, x1, x4, "the worker count does not change the data")
	assert.Equal(t, l1, l4)
	assert.Len(t, l1, n)
	assert.ElementsMatch(t, ds.labels, l1, "every example once per epoch")
	_, lNext := collect(4, 1)
	assert.NotEqual(t, l1, lNext, "a new order each epoch")

	// Stopping early leaves no worker blocked (the race detector and
	// goroutine leak would show up as a hang at the end of the test).
	l, err := NewLoader(ds, tf, LoaderOptions{BatchSize: 4, DropLast: true, Workers: 2, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, 9, l.NumBatches())
	for range l.Epoch(context.Background(), 0) {
		break
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range l.Epoch(ctx, 0) {
		if err != nil {
			assert.ErrorIs(t, err, context.Canceled)
			break
		}
	}
}

// TestEvalMatchesTorchvision runs the trainer's test transform on a real
// photograph and compares with torchvision's Resize(256), CenterCrop(224)
// output (testdata/torch/gen_preprocess.py): the trainer evaluates on the
// very inputs hub serves.
func TestEvalMatchesTorchvision(t *testing.T) {
	open := func(p string) image.Image {
		img, _ := testutil.DecodeFile(t, filepath.Join(preprocessDir, p))
		return img
	}
	for _, tt := range []struct {
		in, ref string
		tf      Eval
	}{
		{"inputs/dogtall.png", "ref/dogtall.png.imagenet.png", Eval{C: 3, Resize: 256, Crop: 224, Norm: ImageNetNorm}},
		{"inputs/dog420.jpg", "ref/dog420.jpg.fashion_mnist.png", Eval{C: 1, Resize: 28, Crop: 28, Norm: Norm{Mean: []float32{0}, Std: []float32{1}}}},
	} {
		ex, err := ImageToExample(open(tt.in))
		require.NoError(t, err)
		got := make([]float32, OutLen(tt.tf))
		require.NoError(t, tt.tf.Apply(ex, nil, got))
		ref, err := ImageToExample(open(tt.ref))
		require.NoError(t, err)
		plane := tt.tf.Crop * tt.tf.Crop
		var sum float64
		for i, v := range got {
			c := i / plane
			want := (float32(ref.Pix[i])/255 - tt.tf.Norm.Mean[c]) / tt.tf.Norm.Std[c]
			sum += math.Abs(float64(v - want))
			if strings.HasSuffix(tt.in, ".png") {
				require.Equal(t, want, v, "%s value %d", tt.in, i)
			}
		}
		assert.Less(t, sum/float64(len(got)), 0.02, tt.in)
	}
}
