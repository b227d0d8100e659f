package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weights.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	require.NoError(t, Write(path, []byte("new"), 0o644))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	assert.Empty(t, Leftovers(path))
}

func TestWriteFuncFailureLeavesTheOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoint.gob")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	boom := errors.New("disk on fire")
	err := WriteFunc(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
	assert.Empty(t, Leftovers(path), "the temporary file is removed")
}

func TestWriteIntoMissingDirectory(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "no", "such", "dir", "f"), []byte("x"), 0o644)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "atomicfile")
}

func TestLeftoversFindsOnlyThisFilesTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a[1].onnx") // glob metacharacters in the name
	for _, name := range []string{".a[1].onnx.tmp-123", ".a[1].onnx.tmp-456", ".b.onnx.tmp-1", "a[1].onnx"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	assert.ElementsMatch(t, []string{filepath.Join(dir, ".a[1].onnx.tmp-123"), filepath.Join(dir, ".a[1].onnx.tmp-456")}, Leftovers(path))
}
