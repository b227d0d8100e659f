//go:build unix

package hub

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCacheReadRefusesWhatIsNotItsFile: a cache entry replaced by a
// symlink (to a large file), a FIFO, a directory or a file of another size
// is refused before a byte is read, removed, and fetched again; a read
// honours its context. Before, a FIFO hung Read for ever and a symlink to
// a large file was read whole.
func TestCacheReadRefusesWhatIsNotItsFile(t *testing.T) {
	data := randomBytes(1<<16, 7)
	d := Digest{SHA256: sha(data), Size: int64(len(data))}
	big := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 8<<20), 0o644))
	tests := []struct {
		name    string
		plant   func(t *testing.T, p string)
		want    error
		wantMsg string
	}{
		{"symlink to a large file", func(t *testing.T, p string) { require.NoError(t, os.Symlink(big, p)) }, errBadEntry, ""},
		{"symlink to the right content", func(t *testing.T, p string) {
			good := filepath.Join(t.TempDir(), "good")
			require.NoError(t, os.WriteFile(good, data, 0o644))
			require.NoError(t, os.Symlink(good, p))
		}, errBadEntry, ""},
		{"FIFO", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }, errBadEntry, "not a regular file"},
		{"directory", func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) }, errBadEntry, "not a regular file"},
		{"larger file", func(t *testing.T, p string) { require.NoError(t, os.WriteFile(p, make([]byte, 8<<20), 0o644)) }, ErrChecksum, "8388608 bytes, want 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := OpenCache(t.TempDir())
			require.NoError(t, err)
			p := c.Path(d)
			tt.plant(t, p)
			done := make(chan error, 1)
			go func() { _, err := c.Read(d); done <- err }()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Read hangs")
			}
			require.ErrorIs(t, err, tt.want)
			assert.ErrorContains(t, err, tt.wantMsg)
			_, err = os.Lstat(p)
			assert.ErrorIs(t, err, fs.ErrNotExist, "the bad entry is removed")
			fi, err := os.Stat(big)
			require.NoError(t, err, "a symlink's target is left alone")
			assert.Equal(t, int64(8<<20), fi.Size())

			// Fetch replaces it with the verified download.
			tt.plant(t, p)
			got, err := c.Fetch(context.Background(), d, func(context.Context) (io.ReadCloser, int64, error) {
				return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
			}, FetchOptions{What: "w"})
			require.NoError(t, err)
			assert.Equal(t, data, got)
		})
	}

	t.Run("cancelled context", func(t *testing.T) {
		c, err := OpenCache(t.TempDir())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(c.Path(d), data, 0o644))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = c.ReadContext(ctx, d)
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
		assert.FileExists(t, c.Path(d), "a good entry is kept")
		got, err := c.ReadContext(context.Background(), d)
		require.NoError(t, err)
		assert.Equal(t, data, got)
	})
}
