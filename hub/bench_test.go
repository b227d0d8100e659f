package hub

import (
	"context"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"
)

// The load benchmarks use a 45 MB linear model (3×224×224 → 75 classes)
// stored in versitygw on loopback. Compare:
//
//	BenchmarkS3RawTransfer  GET the object into io.Discard (the floor)
//	BenchmarkFetchCold      download + hash + fsync + rename, no decode
//	BenchmarkLoadCold       Load with an empty cache: download, verify, decode
//	BenchmarkLoadWarm       Load from the cache: read, verify, decode
//
//	go test -run '^$' -bench . -benchtime 5x ./hub/

type benchEnv struct {
	store Store
	m     *Manifest
	data  []byte
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	v := startVersity(b)
	data := linearONNX(3, 224, 224, 75, nil)
	v.put(b, "big.onnx", data)
	labels := make([]string, 75)
	return &benchEnv{
		store: v.store(b, ""),
		m:     manifestOf(b, testEntry("big", "big.onnx", data, 3, 224, 224, labels)),
		data:  data,
	}
}

func BenchmarkS3RawTransfer(b *testing.B) {
	env := newBenchEnv(b)
	client := env.store.(*S3Store).client
	b.SetBytes(int64(len(env.data)))
	for b.Loop() {
		obj, err := client.GetObject(context.Background(), testBucket, "big.onnx", minio.GetObjectOptions{})
		require.NoError(b, err)
		n, err := io.Copy(io.Discard, obj)
		require.NoError(b, err)
		require.Equal(b, int64(len(env.data)), n)
		obj.Close()
	}
}

func BenchmarkFetchCold(b *testing.B) {
	env := newBenchEnv(b)
	b.SetBytes(int64(len(env.data)))
	for b.Loop() {
		_, err := fetch(context.Background(), env.m, "big", WithStore(env.store), WithCache(b.TempDir()), WithOffline(false))
		require.NoError(b, err)
	}
}

func BenchmarkLoadCold(b *testing.B) {
	env := newBenchEnv(b)
	b.SetBytes(int64(len(env.data)))
	for b.Loop() {
		_, err := Load("big", WithManifest(env.m), WithStore(env.store), WithCache(b.TempDir()), WithOffline(false), WithProgress(nil))
		require.NoError(b, err)
	}
}

func BenchmarkLoadWarm(b *testing.B) {
	env := newBenchEnv(b)
	cache := b.TempDir()
	_, err := fetch(context.Background(), env.m, "big", WithStore(env.store), WithCache(cache), WithOffline(false))
	require.NoError(b, err)
	b.SetBytes(int64(len(env.data)))
	for b.Loop() {
		_, err := Load("big", WithManifest(env.m), WithStore(env.store), WithCache(cache), WithOffline(true))
		require.NoError(b, err)
	}
}

func BenchmarkSHA256(b *testing.B) {
	data := randomBytes(64<<20, 10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sha256.Sum256(data)
	}
}
