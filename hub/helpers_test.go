package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/s3test"
)

const (
	testAccessKey = s3test.AccessKey
	testSecretKey = s3test.SecretKey
	testBucket    = "weights"
)

// versity is a versitygw S3 server on loopback (internal/s3test) holding
// testBucket.
type versity struct {
	endpoint string
	srv      *s3test.Server
}

// startVersity starts a fresh server and creates testBucket; it is stopped
// when the test ends.
func startVersity(tb testing.TB) *versity {
	tb.Helper()
	srv := s3test.Start(tb)
	srv.MakeBucket(tb, testBucket)
	return &versity{endpoint: srv.Endpoint, srv: srv}
}

func (v *versity) stop() { v.srv.Stop() }

// store returns an S3Store on testBucket with the root credentials.
func (v *versity) store(tb testing.TB, prefix string) *S3Store {
	tb.Helper()
	s, err := NewS3Store(S3Config{
		Endpoint: v.endpoint, Region: "us-east-1", Bucket: testBucket, Prefix: prefix,
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey,
	})
	require.NoError(tb, err)
	return s
}

func (v *versity) put(tb testing.TB, key string, data []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(tb, v.store(tb, "").Put(ctx, key, bytes.NewReader(data), int64(len(data))))
}

// putModel puts size random bytes (from seed) as name.onnx and returns
// them with a manifest whose one entry, name, is a 1×4×4 model over them.
func (v *versity) putModel(tb testing.TB, name string, size int, seed byte) ([]byte, *Manifest) {
	tb.Helper()
	data := randomBytes(size, seed)
	v.put(tb, name+".onnx", data)
	return data, manifestOf(tb, testEntry(name, name+".onnx", data, 1, 4, 4, nil))
}

func sha(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// testEntry is a manifest entry for a linear model over C×H×W inputs with
// labels, whose weights are data under key.
func testEntry(name, key string, data []byte, c, h, w int, labels []string) Entry {
	mean, std := make([]float64, c), make([]float64, c)
	for i := range std {
		mean[i], std[i] = 0.5, 0.25
	}
	return Entry{
		Name: name, Arch: "linear", Args: Args{NumClasses: len(labels), NC: c},
		Dataset: "test", MSDA: "baseline",
		Input:    Input{Shape: []int{c, h, w}, Mean: mean, Std: std, Interpolation: "bilinear", Scale: 255},
		Labels:   labels,
		Accuracy: Accuracy{Source: "none"},
		Weights:  Weights{Key: key, SHA256: sha(data), Size: int64(len(data)), Format: "onnx"},
	}
}

// manifestOf builds a Manifest from entries (validated like a parsed one).
func manifestOf(tb testing.TB, entries ...Entry) *Manifest {
	tb.Helper()
	m := &Manifest{byName: map[string]int{}}
	for _, e := range entries {
		require.NoError(tb, e.validate())
		m.byName[e.Name] = len(m.entries)
		for _, a := range e.Aliases {
			m.byName[a] = len(m.entries)
		}
		m.entries = append(m.entries, e)
	}
	return m
}

// fetch runs Load's weights step (resolve, store, cache, verify) without
// decoding, so store and cache faults are tested apart from the engine.
func fetch(ctx context.Context, m *Manifest, name string, opts ...Option) ([]byte, error) {
	cl, err := defaultClient()
	if err != nil {
		return nil, err
	}
	c := cl.config(append([]Option{WithManifest(m), WithProgress(nil)}, opts...))
	e, err := m.Lookup(name)
	if err != nil {
		return nil, err
	}
	return c.weights(ctx, e)
}

// countingStore counts the Get calls that reach the wrapped store.
type countingStore struct {
	Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

// cacheFiles lists the cache directory, temporaries included.
func cacheFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(tb, err)
	var out []string
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".lock" {
			out = append(out, e.Name())
		}
	}
	return out
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}
