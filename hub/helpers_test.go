package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
)

const (
	testAccessKey = "hubtestaccess"
	testSecretKey = "hubtest-Secret-9f3a7c2e"
	testBucket    = "weights"
)

// versity is a versitygw S3 server on loopback with a temporary root.
type versity struct {
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// versitygwPath finds the versitygw binary that scripts/install-test-deps.sh
// installs. Outside CI a missing binary skips the test; under CI it fails.
func versitygwPath(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(string(bytes.TrimSpace(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "versitygw not installed: run scripts/install-test-deps.sh (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"
	if os.Getenv("CI") != "" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// startVersity starts a fresh server and creates testBucket; it is stopped
// when the test ends.
func startVersity(tb testing.TB) *versity {
	tb.Helper()
	bin := versitygwPath(tb)
	root := tb.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	l.Close()

	cmd := exec.Command(bin, "--port", addr, "posix", root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+testAccessKey, "ROOT_SECRET_KEY="+testSecretKey)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(tb, cmd.Start())
	v := &versity{endpoint: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(v.done) }()
	tb.Cleanup(v.stop)

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-v.done:
			tb.Fatalf("versitygw exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygw did not listen on %s: %s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(tb, v.store(tb, "").Client().MakeBucket(ctx, testBucket, minio.MakeBucketOptions{}))
	return v
}

func (v *versity) stop() {
	select {
	case <-v.done:
		return
	default:
	}
	v.cmd.Process.Kill()
	<-v.done
}

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
	c := newConfig(append([]Option{WithManifest(m), WithProgress(nil)}, opts...))
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

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
