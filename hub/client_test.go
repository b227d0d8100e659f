package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The zero Client serves the embedded manifest from the embedded weights,
// reading them in place (no cache), and imports nothing.
func TestZeroClient(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	t.Setenv("HOME", home) // a cache would be created here
	var c Client
	ctx := context.Background()
	names, err := c.List(ctx, "lenet_fashion_*")
	require.NoError(t, err)
	assert.Contains(t, names, "lenet_fashion_fmix")
	e, err := c.Info(ctx, "lenet_fashion_fmix")
	require.NoError(t, err)
	assert.Equal(t, "lenet", e.Arch)
	model, err := c.Load(ctx, "lenet_fashion_fmix")
	require.NoError(t, err)
	assert.Equal(t, e.Weights.SHA256, model.Info().Weights.SHA256)
	assert.NoDirExists(t, home, "embedded weights are read in place")

	_, err = c.Load(ctx, "pyramidnet_cifar10_fmix")
	assert.ErrorIs(t, err, ErrNoWeights, "no importer: the error says how to convert")
	_, err = c.Info(ctx, "nope")
	assert.ErrorIs(t, err, ErrUnknownModel)
}

// A Client's ManifestSource is read with the caller's context, once.
func TestClientManifestSource(t *testing.T) {
	data := linearONNX(1, 4, 4, 2, nil)
	m := manifestOf(t, testEntry("lin", "lin.onnx", data, 1, 4, 4, []string{"a", "b"}))
	doc := `{"schema": 1, "models": [` + entryJSON("lin", `"labels": ["a", "b"]`) + `]}`
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	c := &Client{ManifestSource: srv.URL + "/weights.json", StoreURI: dirWith(t, map[string][]byte{"lin.onnx": data}),
		CacheDir: t.TempDir()}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Load(cancelled, "lin")
	require.ErrorIs(t, err, context.Canceled, "the caller's context covers the manifest's read")
	assert.Zero(t, hits.Load())

	ctx := context.Background()
	names, err := c.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"lin"}, names)
	_, err = c.Info(ctx, "lin")
	require.NoError(t, err)
	assert.Equal(t, int64(1), hits.Load(), "read once, then kept")

	// Options override the client's fields for one call.
	_, err = c.Load(ctx, "lin")
	assert.ErrorIs(t, err, ErrNoWeights, "the served manifest records no sha256 for lin")
	_, err = c.Load(ctx, "lin", WithManifest(m), WithStoreURI(t.TempDir()))
	assert.ErrorIs(t, err, ErrNotFound, "the other store lacks lin.onnx")
	model, err := c.Load(ctx, "lin", WithManifest(m))
	require.NoError(t, err)
	assert.Equal(t, sha(data), model.Info().Weights.SHA256)
	assert.Equal(t, int64(1), hits.Load())
}

// A Client's Importer and Upstream options reach the importer.
func TestClientImporter(t *testing.T) {
	var got ImportEnv
	c := &Client{CacheDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), Upstream: UpstreamOptions{Base: "http://mirror", Repeat: 2},
		Importer: func(ctx context.Context, e Entry, env ImportEnv) ([]byte, error) {
			got = env
			return linearONNX(3, 32, 32, 10, nil), nil
		}}
	_, err := c.Load(context.Background(), "pyramidnet_cifar10_fmix")
	require.NoError(t, err)
	assert.Equal(t, UpstreamOptions{Base: "http://mirror", Repeat: 2}, got.Upstream)
	assert.NotNil(t, got.Cache)

	_, err = c.Load(context.Background(), "pyramidnet_cifar10_fmix", WithImporter(nil))
	assert.ErrorIs(t, err, ErrNoWeights, "WithImporter(nil) overrides the client's importer")

	_, err = ImportPyTorch(context.Background(), Entry{Name: "x", Upstream: &Upstream{Base: "http://h", Path: "/x_{repeat}.pt", Repeats: 2}},
		ImportEnv{Cache: got.Cache, Upstream: UpstreamOptions{Repeat: 2}})
	assert.ErrorContains(t, err, EnvUpstreamRepeat+"=2: want a repeat in 0..1")
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "store"), 0o755))
	store, err := NewDirStore(filepath.Join(dir, "store"))
	require.NoError(t, err)
	manifest := filepath.Join(dir, "weights.json")
	require.NoError(t, os.WriteFile(manifest, []byte(`{"schema": 1, "models": []}`), 0o644))
	data := linearONNX(1, 4, 4, 2, nil)
	e := testEntry("lin", "sub/lin.onnx", nil, 1, 4, 4, []string{"a", "b"})
	e.Weights.SHA256, e.Weights.Size = "", 0

	got, err := Publish(ctx, store, manifest, e, data)
	require.NoError(t, err)
	assert.Equal(t, sha(data), got.Weights.SHA256)
	assert.Equal(t, int64(len(data)), got.Weights.Size)
	stored, err := os.ReadFile(filepath.Join(dir, "store", "sub", "lin.onnx"))
	require.NoError(t, err)
	assert.Equal(t, data, stored)
	m, err := ReadManifest(ctx, manifest, nil)
	require.NoError(t, err)
	recorded, err := m.Lookup("lin")
	require.NoError(t, err)
	assert.Equal(t, got, recorded)
	model, err := (&Client{Manifest: m, Store: store}).Load(ctx, "lin")
	require.NoError(t, err, "what Publish wrote loads, verified")
	assert.Equal(t, "lin", model.Info().Name)

	// No manifest file: the store alone.
	_, err = Publish(ctx, store, "", testEntry("other", "other.onnx", nil, 1, 4, 4, []string{"a", "b"}), data)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "store", "other.onnx"))

	// An invalid entry writes nothing.
	bad := testEntry("bad", "bad.onnx", nil, 1, 4, 4, []string{"a", "b"})
	bad.Accuracy.Source = "guessed"
	_, err = Publish(ctx, store, manifest, bad, data)
	require.Error(t, err)
	assert.NoFileExists(t, filepath.Join(dir, "store", "bad.onnx"))

	// A store that refuses the write leaves the manifest alone.
	before, err := os.ReadFile(manifest)
	require.NoError(t, err)
	_, err = Publish(ctx, refusingStore{store}, manifest, testEntry("new", "new.onnx", nil, 1, 4, 4, []string{"a", "b"}), data)
	require.ErrorIs(t, err, ErrReadOnly)
	after, err := os.ReadFile(manifest)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

type refusingStore struct{ Store }

func (refusingStore) Put(context.Context, string, io.Reader, int64) error {
	return fmt.Errorf("refused: %w", ErrReadOnly)
}
