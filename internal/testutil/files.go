package testutil

import (
	"image"
	_ "image/gif" // DecodeFile's formats
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadTree reads every file under dir, keyed by its path.
func ReadTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = b
		return err
	}))
	return files
}

// AssertNoSecrets asserts that none of secrets occurs in any of haystacks
// (logs, errors, files: what → bytes), naming each place one leaked to.
func AssertNoSecrets(t testing.TB, haystacks map[string][]byte, secrets ...string) {
	t.Helper()
	for what, b := range haystacks {
		for _, secret := range secrets {
			assert.NotContains(t, string(b), secret, "%s holds %q", what, secret)
		}
	}
}

// Open opens the file at path for reading until the test ends and returns
// it with its size, as readers over an io.ReaderAt take them.
func Open(t testing.TB, path string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	return f, st.Size()
}

// DecodeFile decodes the image file at path (PNG, JPEG or GIF) and returns
// it with its format's name.
func DecodeFile(t testing.TB, path string) (image.Image, string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, format, err := image.Decode(f)
	require.NoError(t, err, path)
	return img, format
}
