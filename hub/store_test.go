package hub

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

func TestDirStore(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore("file://"+dir, StoreOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Put(ctx, "a/b.onnx", strings.NewReader("hello"), 5))
	require.Error(t, s.Put(ctx, "short.onnx", strings.NewReader("hi"), 5), "size mismatch")
	assert.NoFileExists(t, filepath.Join(dir, "short.onnx"))

	rc, info, err := s.Get(ctx, "a/b.onnx")
	require.NoError(t, err)
	b, _ := io.ReadAll(rc)
	rc.Close()
	assert.Equal(t, "hello", string(b))
	assert.Equal(t, int64(5), info.Size)

	list, err := s.List(ctx, "a/")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "a/b.onnx", list[0].Key)

	for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "a//b", `a\b`, "", ".", "a/./b"} {
		_, _, err := s.Get(ctx, key)
		assert.ErrorIs(t, err, ErrInvalidName, key)
		assert.ErrorIs(t, s.Put(ctx, key, strings.NewReader(""), 0), ErrInvalidName, key)
	}
	_, err = s.Stat(ctx, "a")
	assert.ErrorIs(t, err, ErrNotFound, "a directory is not an object")
	_, _, err = s.Get(ctx, "nope")
	assert.ErrorIs(t, err, ErrNotFound)

	plain, err := OpenStore(dir, StoreOptions{})
	require.NoError(t, err)
	_, err = plain.Stat(ctx, "a/b.onnx")
	assert.NoError(t, err, "a bare path is a directory store")
}

func TestEmbeddedStore(t *testing.T) {
	s, err := OpenStore("", StoreOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = s.Stat(ctx, "README.md")
	assert.NoError(t, err)
	assert.ErrorIs(t, s.Put(ctx, "x.onnx", strings.NewReader(""), 0), ErrReadOnly)
	_, _, err = s.Get(ctx, "nope.onnx")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestOpenStoreErrors(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"ftp://user:pw@host/x", "unknown scheme"},
		{"file://host/x", "file:///absolute"},
		{"s3://", "want s3://BUCKET"},
		{"http://", "want http(s)://HOST"},
		{"/does/not/exist", "no such file"},
	}
	for _, tt := range tests {
		_, err := OpenStore(tt.uri, StoreOptions{})
		require.Error(t, err, tt.uri)
		assert.Contains(t, err.Error(), tt.want)
		assert.NotContains(t, err.Error(), "pw@", "credentials are redacted")
	}
}

func TestHTTPStore(t *testing.T) {
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		switch {
		case r.URL.Path == "/base/secret.onnx" && (!ok || u != "me" || p != "s3cr3t"):
			http.Error(w, "no", http.StatusUnauthorized)
		case r.URL.Path == "/base/ok.onnx", r.URL.Path == "/base/secret.onnx":
			gets.Add(1)
			w.Write([]byte("payload"))
		case r.URL.Path == "/base/boom.onnx":
			http.Error(w, "boom", http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, err := OpenStore(srv.URL+"/base", StoreOptions{})
	require.NoError(t, err)
	authed, err := OpenStore(strings.Replace(srv.URL, "http://", "http://me:s3cr3t@", 1)+"/base/", StoreOptions{})
	require.NoError(t, err)
	assert.NotContains(t, authed.String(), "s3cr3t")
	ctx := context.Background()

	tests := []struct {
		store   Store
		key     string
		want    string
		wantErr error
		transit bool
	}{
		{store: s, key: "ok.onnx", want: "payload"},
		{store: s, key: "missing.onnx", wantErr: ErrNotFound},
		{store: s, key: "secret.onnx", wantErr: ErrAccessDenied},
		{store: authed, key: "secret.onnx", want: "payload"},
		{store: s, key: "boom.onnx", transit: true},
		{store: s, key: "../x", wantErr: ErrInvalidName},
	}
	for _, tt := range tests {
		rc, _, err := tt.store.Get(ctx, tt.key)
		if tt.want != "" {
			require.NoError(t, err, tt.key)
			b, _ := io.ReadAll(rc)
			rc.Close()
			assert.Equal(t, tt.want, string(b))
			continue
		}
		require.Error(t, err, tt.key)
		if tt.wantErr != nil {
			assert.ErrorIs(t, err, tt.wantErr, tt.key)
		}
		assert.Equal(t, tt.transit, IsTransient(err), tt.key)
		assert.NotContains(t, err.Error(), "s3cr3t")
	}
	assert.ErrorIs(t, s.Put(ctx, "x", strings.NewReader(""), 0), ErrReadOnly)
}

// trickle serves size bytes of data slowly: every gap it sends one chunk;
// after stallAfter bytes it stops sending but keeps the connection open.
func trickle(data []byte, chunk int, gap time.Duration, stallAfter int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		fl := w.(http.Flusher)
		for off := 0; off < len(data); off += chunk {
			if stallAfter >= 0 && off >= stallAfter {
				<-r.Context().Done()
				return
			}
			w.Write(data[off:min(off+chunk, len(data))])
			fl.Flush()
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
	})
}

func TestSlowServerTimeouts(t *testing.T) {
	data := randomBytes(64<<10, 8)
	m := manifestOf(t, testEntry("slow", "slow.onnx", data, 1, 4, 4, nil))

	t.Run("context deadline", func(t *testing.T) {
		srv := httptest.NewServer(trickle(data, 1024, 20*time.Millisecond, -1)) // ~1.3 s in all
		defer srv.Close()
		cache := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := fetch(ctx, m, "slow", WithStoreURI(srv.URL), WithCache(cache), WithOffline(false))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Empty(t, cacheFiles(t, cache), "no partial file is left")
	})
	t.Run("stall", func(t *testing.T) {
		srv := httptest.NewServer(trickle(data, 4096, time.Millisecond, 8192))
		defer srv.Close()
		cache := t.TempDir()
		_, err := fetch(context.Background(), m, "slow", WithStoreURI(srv.URL), WithCache(cache), WithOffline(false),
			WithStallTimeout(100*time.Millisecond), WithRetries(1, time.Millisecond))
		require.Error(t, err)
		assert.ErrorIs(t, err, errStalled)
		assert.Contains(t, err.Error(), "after 2 attempts")
		assert.Empty(t, cacheFiles(t, cache))
	})
	t.Run("slow but steady succeeds", func(t *testing.T) {
		srv := httptest.NewServer(trickle(data, 16<<10, 50*time.Millisecond, -1))
		defer srv.Close()
		got, err := fetch(context.Background(), m, "slow", WithStoreURI(srv.URL), WithCache(t.TempDir()),
			WithOffline(false), WithStallTimeout(time.Second))
		require.NoError(t, err)
		assert.Equal(t, data, got)
	})
}

func TestProgressBar(t *testing.T) {
	data := randomBytes(1<<20, 9)
	var out strings.Builder
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	open := func(context.Context) (io.ReadCloser, int64, error) {
		return io.NopCloser(strings.NewReader(string(data))), int64(len(data)), nil
	}
	_, err = c.Fetch(context.Background(), Digest{SHA256: sha(data), Size: int64(len(data))}, open,
		FetchOptions{What: "m", Progress: &out})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "m  1.0/1.0 MiB  100%")
	assert.Contains(t, out.String(), "ETA")
	_, err = os.Stat(c.Path(Digest{SHA256: sha(data)}))
	assert.NoError(t, err)
}

func TestCredentialsStayOutOfLogsAndErrors(t *testing.T) {
	data := randomBytes(1000, 12)
	m := manifestOf(t, testEntry("w", "w.onnx", data, 1, 4, 4, nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "try later", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	uri := strings.Replace(srv.URL, "http://", "http://robot:hunter2-secret@", 1) + "/store"
	var logs testutil.SyncBuffer
	_, err := fetch(context.Background(), m, "w", WithStoreURI(uri), WithCache(t.TempDir()), WithOffline(false),
		WithRetries(2, time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.Error(t, err)
	assert.True(t, IsTransient(err), "503 is transient")
	assert.Contains(t, err.Error(), "after 3 attempts")
	assert.Contains(t, logs.String(), "retrying")
	for _, s := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, s, "hunter2-secret")
	}
}
