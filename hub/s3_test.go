package hub

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// These tests run the store and cache against a real S3 server (versitygw).

func TestS3Faults(t *testing.T) {
	v := startVersity(t)
	good := randomBytes(3<<20+17, 1)
	v.put(t, "models/good.onnx", good)
	v.put(t, "models/short.onnx", good[:len(good)/2])

	wrongSHA := testEntry("wrong-sha", "good.onnx", good, 1, 4, 4, nil)
	wrongSHA.Weights.SHA256 = sha([]byte("something else"))
	withUpstream := testEntry("published", "absent.onnx", good, 1, 4, 4, nil)
	withUpstream.Upstream = &Upstream{Base: "http://example.invalid/models", Path: "/m_{repeat}.pt", Format: "torch-state-dict"}
	m := manifestOf(t,
		testEntry("good", "good.onnx", good, 1, 4, 4, nil),
		testEntry("truncated", "short.onnx", good, 1, 4, 4, nil),
		wrongSHA,
		testEntry("missing", "absent.onnx", good, 1, 4, 4, nil),
		withUpstream,
	)

	tests := []struct {
		name    string
		model   string
		store   func() Store
		wantErr []error // all must match with errors.Is; nil: success
		wantMsg string
	}{
		{name: "load", model: "good", store: func() Store { return v.store(t, "models") }},
		{name: "truncated object", model: "truncated", store: func() Store { return v.store(t, "models") },
			wantErr: []error{ErrChecksum}, wantMsg: "bytes, want"},
		{name: "wrong sha256", model: "wrong-sha", store: func() Store { return v.store(t, "models") },
			wantErr: []error{ErrChecksum}, wantMsg: "sha256 "},
		{name: "404", model: "missing", store: func() Store { return v.store(t, "models") },
			wantErr: []error{ErrNotFound}, wantMsg: "absent.onnx"},
		{name: "404 with upstream says how to get weights", model: "published", store: func() Store { return v.store(t, "models") },
			wantErr: []error{ErrNoWeights, ErrNotFound}, wantMsg: "zoo-train pull published"},
		{name: "missing bucket", model: "good", store: func() Store {
			s, err := NewS3Store(S3Config{Endpoint: v.endpoint, Bucket: "nobucket", AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey})
			require.NoError(t, err)
			return s
		}, wantErr: []error{ErrNotFound}, wantMsg: "bucket nobucket"},
		{name: "bad credentials", model: "good", store: func() Store {
			s, err := NewS3Store(S3Config{Endpoint: v.endpoint, Bucket: testBucket, Prefix: "models",
				AccessKeyID: testAccessKey, SecretAccessKey: "wrong-" + testSecretKey})
			require.NoError(t, err)
			return s
		}, wantErr: []error{ErrAccessDenied}},
		{name: "unknown access key", model: "good", store: func() Store {
			s, err := NewS3Store(S3Config{Endpoint: v.endpoint, Bucket: testBucket, Prefix: "models",
				AccessKeyID: "nosuchuser", SecretAccessKey: testSecretKey})
			require.NoError(t, err)
			return s
		}, wantErr: []error{ErrAccessDenied}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			var logs testutil.SyncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			data, err := fetch(ctx, m, tt.model, WithStore(tt.store()), WithCache(cache),
				WithOffline(false), WithLogger(logger), WithRetries(1, time.Millisecond),
				WithImporter(nil)) // the fault cases test the store alone
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, good, data)
				assert.Equal(t, []string{sha(good) + ".onnx"}, cacheFiles(t, cache))
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorIs(t, err, want)
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.NotContains(t, err.Error(), testSecretKey)
			assert.NotContains(t, logs.String(), testSecretKey)
			assert.Empty(t, cacheFiles(t, cache), "a failed fetch leaves nothing in the cache")
		})
	}
}

// TestS3ConcurrentLoadsDownloadOnce loads one name from 16 goroutines.
func TestS3ConcurrentLoadsDownloadOnce(t *testing.T) {
	v := startVersity(t)
	data, m := v.putModel(t, "one", 8<<20, 2)
	store := &countingStore{Store: v.store(t, "")}
	cache := t.TempDir()

	var wg sync.WaitGroup
	errs := make([]error, 16)
	got := make([][]byte, 16)
	for i := range 16 {
		wg.Go(func() {
			got[i], errs[i] = fetch(context.Background(), m, "one", WithStore(store), WithCache(cache), WithOffline(false))
		})
	}
	wg.Wait()
	for i := range 16 {
		require.NoError(t, errs[i])
		require.Equal(t, data, got[i])
	}
	assert.Equal(t, int64(1), store.gets.Load(), "one download for 16 concurrent loads")
}

// TestCrossProcessLock uses two Cache values on one directory, as two
// processes would have: only the flock on the lock file keeps them from
// downloading twice.
func TestCrossProcessLock(t *testing.T) {
	v := startVersity(t)
	data := randomBytes(4<<20, 3)
	v.put(t, "x.onnx", data)
	d := Digest{SHA256: sha(data), Size: int64(len(data))}
	dir := t.TempDir()
	store := &countingStore{Store: v.store(t, "")}
	open := func(ctx context.Context) (io.ReadCloser, int64, error) {
		rc, info, err := store.Get(ctx, "x.onnx")
		time.Sleep(50 * time.Millisecond) // hold the lock long enough for the other to queue
		return rc, info.Size, err
	}
	var wg sync.WaitGroup
	for range 2 {
		c := &Cache{dir: dir, inflight: map[string]*flight{}} // not shared, unlike OpenCache
		wg.Go(func() {
			got, err := c.Fetch(context.Background(), d, open, FetchOptions{What: "x"})
			assert.NoError(t, err)
			assert.Equal(t, data, got)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), store.gets.Load())
}

func TestOfflineAndCorruptCache(t *testing.T) {
	v := startVersity(t)
	data, m := v.putModel(t, "w", 1<<20, 4)
	cache := t.TempDir()
	path := filepath.Join(cache, sha(data)+".onnx")
	store := &countingStore{Store: v.store(t, "")}
	load := func(offline bool) ([]byte, error) {
		return fetch(context.Background(), m, "w", WithStore(store), WithCache(cache), WithOffline(offline))
	}

	_, err := load(true)
	require.ErrorIs(t, err, ErrOffline, "offline miss")
	assert.Contains(t, err.Error(), "not in the cache")
	assert.Equal(t, int64(0), store.gets.Load(), "offline never touches the store")

	got, err := load(false)
	require.NoError(t, err)
	require.Equal(t, data, got)

	v.stop() // the store is gone; the cache must do
	got, err = load(true)
	require.NoError(t, err, "offline hit")
	assert.Equal(t, data, got)
	t.Setenv("ZOO_OFFLINE", "1")
	got, err = fetch(context.Background(), m, "w", WithStore(store), WithCache(cache))
	require.NoError(t, err, "ZOO_OFFLINE=1 hit")
	assert.Equal(t, data, got)

	corrupt := append([]byte(nil), data...)
	corrupt[12345] ^= 0xff
	require.NoError(t, os.WriteFile(path, corrupt, 0o644))
	_, err = load(true)
	require.ErrorIs(t, err, ErrOffline)
	require.ErrorIs(t, err, ErrChecksum, "a corrupt cached file is detected")
	assert.NoFileExists(t, path, "and removed")
	assert.Equal(t, int64(1), store.gets.Load())
}

func TestCorruptCacheIsRefetched(t *testing.T) {
	v := startVersity(t)
	data, m := v.putModel(t, "w", 1<<20, 5)
	cache := t.TempDir()
	path := filepath.Join(cache, sha(data)+".onnx")
	store := &countingStore{Store: v.store(t, "")}

	for _, corrupt := range [][]byte{data[:100], append(append([]byte(nil), data[:len(data)-1]...), data[len(data)-1]^1), {}} {
		require.NoError(t, os.WriteFile(path, corrupt, 0o644))
		got, err := fetch(context.Background(), m, "w", WithStore(store), WithCache(cache), WithOffline(false))
		require.NoError(t, err)
		assert.Equal(t, data, got)
		onDisk, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, data, onDisk, "the cache holds the good copy again")
	}
	assert.Equal(t, int64(3), store.gets.Load())
}

// cutProxy relays TCP to target; after limit response bytes on a
// connection it calls onCut once and drops that connection.
type cutProxy struct {
	l      net.Listener
	target string
	limit  int64
	onCut  func()
	cut    atomic.Bool
	conns  atomic.Int64
}

func newCutProxy(t *testing.T, target string, limit int64, onCut func()) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{l: l, target: target, limit: limit, onCut: onCut}
	t.Cleanup(func() { l.Close() })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		go p.relay(c)
	}
}

func (p *cutProxy) relay(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(up, c)
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := up.Read(buf)
		if k > 0 {
			if !p.cut.Load() && n+int64(k) > p.limit {
				c.Write(buf[:p.limit-n])
				if p.cut.CompareAndSwap(false, true) && p.onCut != nil {
					p.onCut()
				}
				return
			}
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
			n += int64(k)
		}
		if err != nil {
			return
		}
	}
}

func TestS3ServerStoppedMidDownload(t *testing.T) {
	v := startVersity(t)
	_, m := v.putModel(t, "big", 6<<20, 6)
	// The proxy cuts the first response after 1 MiB and kills the server.
	p := newCutProxy(t, strings.TrimPrefix(v.endpoint, "http://"), 1<<20, v.stop)
	s, err := NewS3Store(S3Config{Endpoint: "http://" + p.l.Addr().String(), Bucket: testBucket,
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey})
	require.NoError(t, err)
	cache := t.TempDir()
	var logs testutil.SyncBuffer
	_, err = fetch(context.Background(), m, "big", WithStore(s), WithCache(cache), WithOffline(false),
		WithRetries(2, 10*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.Error(t, err)
	assert.True(t, p.cut.Load())
	assert.Contains(t, err.Error(), "after 3 attempts")
	assert.NotErrorIs(t, err, ErrChecksum)
	assert.Contains(t, logs.String(), "retrying")
	assert.Empty(t, cacheFiles(t, cache), "no partial file is left")
}

func TestS3CutConnectionIsRetried(t *testing.T) {
	v := startVersity(t)
	data, m := v.putModel(t, "big", 6<<20, 7)
	p := newCutProxy(t, strings.TrimPrefix(v.endpoint, "http://"), 2<<20, nil) // the server stays up
	s, err := NewS3Store(S3Config{Endpoint: "http://" + p.l.Addr().String(), Bucket: testBucket,
		AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey})
	require.NoError(t, err)
	store := &countingStore{Store: s}
	got, err := fetch(context.Background(), m, "big", WithStore(store), WithCache(t.TempDir()), WithOffline(false),
		WithRetries(2, 10*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Equal(t, int64(2), store.gets.Load(), "one cut attempt, one good one")
}

func TestS3StoreOps(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "pre/fix")
	ctx := context.Background()
	for _, k := range []string{"b.onnx", "a.onnx", "sub/c.onnx"} {
		require.NoError(t, s.Put(ctx, k, strings.NewReader(k), int64(len(k))))
	}
	info, err := s.Stat(ctx, "sub/c.onnx")
	require.NoError(t, err)
	assert.Equal(t, int64(len("sub/c.onnx")), info.Size)
	list, err := s.List(ctx, "")
	require.NoError(t, err)
	var keys []string
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	assert.Equal(t, []string{"a.onnx", "b.onnx", "sub/c.onnx"}, keys)
	_, err = s.Stat(ctx, "nope.onnx")
	assert.ErrorIs(t, err, ErrNotFound)
	_, _, err = s.Get(ctx, "../escape")
	assert.ErrorIs(t, err, ErrInvalidName)

	t.Setenv("ZOO_S3_ENDPOINT", v.endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("ZOO_STORE", "s3://"+testBucket+"/pre/fix")
	c, err := FromEnv()
	require.NoError(t, err)
	env, err := c.OpenStore(c.StoreURI)
	require.NoError(t, err)
	rc, _, err := env.Get(ctx, "a.onnx")
	require.NoError(t, err, "ZOO_STORE with the AWS credential chain")
	b, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, "a.onnx", string(b))
	assert.NotContains(t, env.String(), testSecretKey)
	assert.NotContains(t, env.String(), testAccessKey)
}
