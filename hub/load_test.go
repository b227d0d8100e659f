package hub

import (
	"context"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pattern is a w×h RGB test image whose pixels depend on seed.
func pattern(w, h int, seed uint8) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x*29) + seed, G: uint8(y*53) ^ seed, B: uint8(x*y) + 3*seed, A: 255})
		}
	}
	return img
}

// dirWith writes files into a new directory store.
func dirWith(t *testing.T, files map[string][]byte) string {
	dir := t.TempDir()
	for k, v := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, k), v, 0o644))
	}
	return dir
}

func TestLoadClassifyPredict(t *testing.T) {
	const c, h, w, k = 3, 8, 8, 4
	data := linearONNX(c, h, w, k, nil)
	labels := []string{"zero", "one", "two", "three"}
	m := manifestOf(t, testEntry("lin", "lin.onnx", data, c, h, w, labels))
	dir := dirWith(t, map[string][]byte{"lin.onnx": data})

	model, err := Load("lin", WithManifest(m), WithStoreURI("file://"+dir), WithCache(t.TempDir()), WithOffline(false))
	require.NoError(t, err)
	assert.Equal(t, "lin", model.Info().Name)

	imgs := []image.Image{pattern(8, 8, 1), pattern(8, 8, 90), pattern(16, 8, 7)}
	batch, err := model.Predict(context.Background(), imgs, 2)
	require.NoError(t, err)
	require.Len(t, batch, len(imgs))
	for i, img := range imgs {
		x, err := model.Preprocess(img)
		require.NoError(t, err)
		require.Len(t, x, c*h*w)
		want := TopK(linearLogits(x, 1, k), labels, 2)
		one, err := model.Classify(context.Background(), img, 2)
		require.NoError(t, err)
		for j := range want {
			assert.Equal(t, want[j].Index, one[j].Index, "image %d rank %d", i, j)
			assert.Equal(t, want[j].Label, one[j].Label)
			assert.InDelta(t, want[j].Probability, one[j].Probability, 1e-4)
			assert.Equal(t, one[j].Index, batch[i][j].Index, "the batch agrees with single images")
			assert.InDelta(t, one[j].Probability, batch[i][j].Probability, 1e-5)
		}
	}

	out, err := model.Run(context.Background(), Tensor{Shape: []int{2, c, h, w}, Data: make([]float32, 2*c*h*w)})
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, []int{2, k}, out[0].Shape)
	assert.InDeltaSlice(t, []float64{0, 0.1, 0.2, 0.3}, f64(out[0].Data[:k]), 1e-6, "zero input gives the bias")
}

func f64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func TestLoadFromS3(t *testing.T) {
	v := startVersity(t)
	data := linearONNX(1, 28, 28, 10, nil)
	v.put(t, "zoo/lenet.onnx", data)
	labels := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	m := manifestOf(t, testEntry("tiny_s3", "lenet.onnx", data, 1, 28, 28, labels))
	t.Setenv("ZOO_S3_ENDPOINT", v.endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("ZOO_STORE", "s3://"+testBucket+"/zoo")
	t.Setenv("ZOO_CACHE", t.TempDir())
	t.Setenv("ZOO_OFFLINE", "")
	model, err := LoadContext(context.Background(), "tiny_s3", WithManifest(m), WithProgress(nil))
	require.NoError(t, err)
	preds, err := model.Classify(context.Background(), pattern(28, 28, 5), 3)
	require.NoError(t, err)
	require.Len(t, preds, 3)
	assert.GreaterOrEqual(t, preds[0].Probability, preds[1].Probability)
}

func TestLoadRejects(t *testing.T) {
	good := linearONNX(1, 4, 4, 3, nil)
	garbage := []byte("this is not an onnx model at all")
	wrongClasses := testEntry("wrong_classes", "good.onnx", good, 1, 4, 4, []string{"a", "b", "c", "d", "e"})
	wrongShape := testEntry("wrong_shape", "good.onnx", good, 3, 4, 4, nil)
	tampered := testEntry("tampered", "good.onnx", good, 1, 4, 4, nil)
	tampered.Weights.SHA256 = sha([]byte("the published bytes"))
	m := manifestOf(t,
		testEntry("garbage", "garbage.onnx", garbage, 1, 4, 4, nil),
		wrongClasses, wrongShape, tampered,
	)
	dir := dirWith(t, map[string][]byte{"good.onnx": good, "garbage.onnx": garbage})
	tests := []struct {
		name, want string
		is         error
	}{
		{name: "garbage", want: "decode onnx"},
		{name: "wrong_classes", want: "3 classes, the entry has 5 labels"},
		{name: "wrong_shape", want: "the entry wants N×[3 4 4]"},
		{name: "tampered", want: "sha256", is: ErrChecksum},
		{name: "nope", is: ErrUnknownModel},
		{name: "../../etc/passwd", is: ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			_, err := Load(tt.name, WithManifest(m), WithStoreURI(dir), WithCache(cache), WithOffline(false))
			require.Error(t, err)
			assert.Empty(t, cacheFiles(t, cache), "a directory store is read in place")
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestReadONNX(t *testing.T) {
	m, err := ReadONNX(linearONNX(1, 4, 4, 3, map[string]string{MetadataLabelsKey: `["cat", "dog", "eel"]`, "name": "meta"}))
	require.NoError(t, err)
	e := m.Info()
	assert.Equal(t, "meta", e.Name)
	assert.Equal(t, []string{"cat", "dog", "eel"}, e.Labels)
	assert.Equal(t, []int{1, 4, 4}, e.Input.Shape)
	preds, err := m.Classify(context.Background(), pattern(4, 4, 2), 1)
	require.NoError(t, err)
	assert.Contains(t, e.Labels, preds[0].Label)

	entry := testEntry("from_meta", "x.onnx", nil, 1, 4, 4, []string{"p", "q", "r"})
	js := `{"name":"from_meta","arch":"linear","args":{"num_classes":3,"nc":1},"dataset":"d","msda":"fmix",` +
		`"input":{"shape":[1,4,4],"mean":[0.5],"std":[0.25],"resize":0,"crop":4,"interpolation":"bilinear","scale":255},` +
		`"labels":["p","q","r"],"accuracy":{"source":"none"}}`
	m, err = ReadONNX(linearONNX(1, 4, 4, 3, map[string]string{MetadataEntryKey: js}))
	require.NoError(t, err)
	assert.Equal(t, entry.Labels, m.Info().Labels)
	assert.Equal(t, entry.Input.Mean, m.Info().Input.Mean)

	_, err = ReadONNX(linearONNX(1, 4, 4, 3, map[string]string{MetadataEntryKey: `{"name": 5}`}))
	assert.ErrorContains(t, err, MetadataEntryKey)
	_, err = ReadONNX([]byte{0x0a, 0xff, 0xff})
	assert.Error(t, err)
}

func TestPublishedNameWithoutONNX(t *testing.T) {
	t.Setenv("ZOO_MANIFEST", "")
	_, err := Load("pyramidnet_cifar10_fmix", WithStoreURI(DefaultStoreURI), WithCache(t.TempDir()), WithImporter(nil))
	require.ErrorIs(t, err, ErrNoWeights)
	assert.Contains(t, err.Error(), "zoo-train pull pyramidnet_cifar10_fmix")
	assert.Contains(t, err.Error(), "cifar10_pyramidnet_fmix.pt")

	// The importer hook (filled by the zoo's .pt import) supplies the ONNX.
	var called Entry
	imp := func(ctx context.Context, e Entry, env ImportEnv) ([]byte, error) {
		called = e
		require.NotNil(t, env.Cache)
		return linearONNX(3, 32, 32, 10, nil), nil
	}
	model, err := Load("pyramidnet_cifar10_fmix", WithStoreURI(DefaultStoreURI), WithCache(t.TempDir()), WithImporter(imp))
	require.NoError(t, err)
	assert.Equal(t, "pyramidnet", called.Arch)
	preds, err := model.Classify(context.Background(), pattern(40, 36, 3), 1)
	require.NoError(t, err)
	assert.Contains(t, model.Info().Labels, preds[0].Label)

	failing := func(context.Context, Entry, ImportEnv) ([]byte, error) { return nil, errors.New("upstream 404") }
	_, err = Load("renset101_imagenet_fmix", WithStoreURI(DefaultStoreURI), WithCache(t.TempDir()), WithImporter(failing))
	assert.ErrorContains(t, err, "import upstream checkpoint: upstream 404")
}
