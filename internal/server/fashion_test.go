package server

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// fashionDir holds the Fashion-MNIST test set (Debian dataset-fashion-mnist,
// installed by scripts/install-test-deps.sh).
const fashionDir = "/usr/share/datasets/fashion-mnist"

// needFile skips the test when path is missing outside CI, and fails it
// under CI, where scripts/install-test-deps.sh must have provided it.
func needFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s missing (run scripts/install-test-deps.sh): %v", path, err)
		}
		t.Fatalf("%s missing under CI: %v", path, err)
	}
}

// fashionImages reads the first n Fashion-MNIST test images.
func fashionImages(t *testing.T, n int) []*image.Gray {
	t.Helper()
	path := fashionDir + "/t10k-images-idx3-ubyte.gz"
	needFile(t, path)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var hdr [4]uint32
	require.NoError(t, binary.Read(zr, binary.BigEndian, &hdr))
	require.Equal(t, uint32(0x803), hdr[0], "idx3 magic")
	require.GreaterOrEqual(t, int(hdr[1]), n)
	h, w := int(hdr[2]), int(hdr[3])
	out := make([]*image.Gray, n)
	for i := range out {
		img := image.NewGray(image.Rect(0, 0, w, h))
		_, err := io.ReadFull(zr, img.Pix)
		require.NoError(t, err, fmt.Sprintf("image %d", i))
		out[i] = img
	}
	return out
}
