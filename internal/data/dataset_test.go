package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// writeIDXDir writes a tiny 3-example 2×2 IDX dataset in dir.
func writeIDXDir(t *testing.T, dir string, gzipped bool) {
	t.Helper()
	imgs := encodeIDX([]int{3, 2, 2}, []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	lbls := encodeIDX([]int{3}, []uint8{7, 0, 9})
	suffix := ""
	if gzipped {
		imgs, lbls, suffix = gz(t, imgs), gz(t, lbls), ".gz"
	}
	for _, prefix := range []string{"train", "t10k"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"+suffix), imgs, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"+suffix), lbls, 0o644))
	}
}

func TestOpenIDX(t *testing.T) {
	for _, gzipped := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, gzipped)
		ds, err := OpenIDX(dir, TestSplit)
		require.NoError(t, err)
		require.Equal(t, 3, ds.Len())
		ex, err := ds.Example(1)
		require.NoError(t, err)
		assert.Equal(t, Example{Pix: []uint8{4, 5, 6, 7}, C: 1, H: 2, W: 2, Label: 0}, ex)
		assert.Len(t, ds.Files(), 2)
		assert.Len(t, ds.Files()[0].SHA256, 64)
		_, err = ds.Example(3)
		assert.Error(t, err)
	}
}

func TestOpenIDXErrors(t *testing.T) {
	tests := []struct {
		name    string
		images  []byte
		labels  []byte
		wantMsg string
	}{
		{"missing", nil, nil, "missing IDX file"},
		{"bad magic", []byte{0, 0, 9, 3, 0, 0, 0, 1}, encodeIDX([]int{1}, []uint8{1}), "IDX magic"},
		{"truncated", encodeIDX([]int{3, 2, 2}, make([]uint8, 12))[:20], encodeIDX([]int{3}, []uint8{1, 2, 3}), "truncated"},
		{"count mismatch", encodeIDX([]int{2, 2, 2}, make([]uint8, 8)), encodeIDX([]int{3}, []uint8{1, 2, 3}), "2 images but"},
		{"label range", encodeIDX([]int{1, 2, 2}, make([]uint8, 4)), encodeIDX([]int{1}, []uint8{12}), "label 12"},
		{"trailing bytes", append(encodeIDX([]int{1, 2, 2}, make([]uint8, 4)), 1), encodeIDX([]int{1}, []uint8{1}), "bytes after"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2}, encodeIDX([]int{1}, []uint8{1}), "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.images != nil {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte"), tt.images, 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), tt.labels, 0o644))
			}
			_, err := OpenIDX(dir, TrainSplit)
			require.ErrorIs(t, err, ErrDataset)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Contains(t, err.Error(), dir, "the error names the file")
		})
	}
}

func TestOpenCIFAR(t *testing.T) {
	dir := t.TempDir()
	rec := func(label ...uint8) []byte {
		r := append([]byte{}, label...)
		px := make([]byte, 3072)
		px[0], px[1024], px[3071] = 10, 20, 30
		return append(r, px...)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test_batch.bin"), append(rec(3), rec(9)...), 0o644))
	ds, err := OpenCIFAR(dir, 10, TestSplit)
	require.NoError(t, err)
	require.Equal(t, 2, ds.Len())
	ex, err := ds.Example(1)
	require.NoError(t, err)
	assert.Equal(t, 9, ex.Label)
	assert.Equal(t, []uint8{10, 20, 30}, []uint8{ex.Pix[0], ex.Pix[1024], ex.Pix[3071]})

	sub := filepath.Join(dir, "cifar-100-binary")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "test.bin"), rec(1, 77), 0o644))
	ds, err = OpenCIFAR(dir, 100, TestSplit)
	require.NoError(t, err)
	ex, err = ds.Example(0)
	require.NoError(t, err)
	assert.Equal(t, 77, ex.Label, "CIFAR-100 uses the fine label")

	_, err = OpenCIFAR(dir, 10, TrainSplit)
	require.ErrorIs(t, err, ErrDataset)
	assert.Contains(t, err.Error(), "data_batch_1.bin")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test_batch.bin"), rec(3)[:100], 0o644))
	_, err = OpenCIFAR(dir, 10, TestSplit)
	require.ErrorIs(t, err, ErrDataset)
	assert.Contains(t, err.Error(), "whole number")
}

func TestOpenFolder(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []string{"b_cat", "a_dog"} {
		require.NoError(t, os.Mkdir(filepath.Join(dir, c), 0o755))
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b_cat", "x.png"), png, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a_dog", "bad.jpg"), []byte("not a jpeg"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a_dog", "notes.txt"), []byte("ignored"), 0o644))
	ds, err := OpenFolder(dir)
	require.NoError(t, err)
	require.Equal(t, 2, ds.Len())
	assert.Equal(t, 2, ds.NumClasses())
	_, err = ds.Example(0)
	require.ErrorIs(t, err, ErrDataset)
	assert.Contains(t, err.Error(), "bad.jpg")
	ex, err := ds.Example(1)
	require.NoError(t, err)
	assert.Equal(t, 1, ex.Label, "classes are numbered in sorted order")
	assert.Equal(t, 3, ex.C)

	_, err = OpenFolder(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, ErrDataset)
}

func TestOpenRealDatasets(t *testing.T) {
	tests := []struct {
		name  string
		train int
		test  int
	}{
		{FashionMNIST, 60000, 10000},
		{MNIST, 60000, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.NeedFile(t, DefaultDir(tt.name))
			ds, err := Open(tt.name, "", TestSplit)
			require.NoError(t, err)
			assert.Equal(t, tt.test, ds.Len())
			ex, err := ds.Example(0)
			require.NoError(t, err)
			assert.Equal(t, [3]int{1, 28, 28}, [3]int{ex.C, ex.H, ex.W})
		})
	}
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{"fashion-mnist": FashionMNIST, "FashionMNIST": FashionMNIST, "cifar-10": CIFAR10, "CIFAR100": CIFAR100, "mnist": MNIST} {
		got, err := CanonicalName(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	_, err := CanonicalName("svhn")
	assert.ErrorIs(t, err, ErrDataset)
}

var preprocessDir = filepath.Join("..", "..", "testdata", "torch", "preprocess")

func TestOpenSynsetFolderMapsByList(t *testing.T) {
	tr := testutil.ReadImageNetTree[struct{}](t, preprocessDir)
	dir := t.TempDir()
	tr.Build(t, dir)
	synsets, err := ReadSynsets(filepath.Join(preprocessDir, tr.Synsets))
	require.NoError(t, err)
	require.Len(t, synsets, 1000)
	assert.Equal(t, "n01440764", synsets[0])
	ds, err := OpenSynsetFolder(filepath.Join(dir, "val"), synsets)
	require.NoError(t, err)
	assert.Equal(t, 1000, ds.NumClasses())
	require.Equal(t, len(tr.Images), ds.Len())
	want := map[int]int{}
	for _, im := range tr.Images {
		want[im.Class]++
	}
	got := map[int]int{}
	for i := range ds.Len() {
		ex, err := ds.Example(i)
		require.NoError(t, err)
		got[ex.Label]++
	}
	assert.Equal(t, want, got, "labels are the folders' indices in the synset list (1, 2, 500, 999), not 0-3")

	// A folder outside the list, a list out of order, no list at all.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "val", "n99999999"), 0o755))
	_, err = OpenSynsetFolder(filepath.Join(dir, "val"), synsets)
	assert.ErrorContains(t, err, `"n99999999" is not in the synset list`)
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("n01443537 goldfish\nn01440764 tench\n"), 0o644))
	_, err = ReadSynsets(bad)
	assert.ErrorContains(t, err, "ascending order")
	require.NoError(t, os.WriteFile(bad, []byte("tench\n"), 0o644))
	_, err = ReadSynsets(bad)
	assert.ErrorContains(t, err, "not a WordNet id")
	_, err = OpenImageNetVal(dir, "")
	assert.ErrorContains(t, err, "pass --synsets FILE")
	flat := filepath.Join(dir, "flat")
	require.NoError(t, os.MkdirAll(flat, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(flat, "ILSVRC2012_val_00000001.JPEG"), []byte("x"), 0o644))
	_, err = OpenSynsetFolder(flat, synsets)
	assert.ErrorContains(t, err, "sort them into one folder per synset")
	assert.ErrorIs(t, err, ErrDataset)
}
