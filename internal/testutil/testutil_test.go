package testutil

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadF32(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.f32")
	require.NoError(t, os.WriteFile(path, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, 0o644))
	assert.Equal(t, []float32{1, -2}, ReadF32(t, path))
}

// The manifest decodes with the zoo arguments in any type, every entry
// naming its files.
func TestTorchFixtures(t *testing.T) {
	fx := TorchFixtures[map[string]int](t, "../../testdata/torch")
	for _, f := range fx {
		assert.NotEmpty(t, f.Arch, f.Name)
		assert.Positive(t, f.Args["num_classes"], f.Name)
		assert.Len(t, f.LogitsShape, 2, f.Name)
		for _, file := range []string{f.ONNX, f.Input, f.Logits, f.PT, f.LegacyPT} {
			assert.FileExists(t, filepath.Join("../../testdata/torch", file))
		}
	}
}

func TestReadTreeAndOpen(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "b", "c"), []byte("secret-ish"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d"), []byte("plain"), 0o644))
	files := ReadTree(t, dir)
	assert.Equal(t, map[string][]byte{filepath.Join(dir, "a", "b", "c"): []byte("secret-ish"), filepath.Join(dir, "d"): []byte("plain")}, files)
	AssertNoSecrets(t, files, "hunter2")
	f, size := Open(t, filepath.Join(dir, "d"))
	assert.Equal(t, int64(5), size)
	buf := make([]byte, 5)
	_, err := f.ReadAt(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "plain", string(buf))
}

// The ImageNet tree fixture names files that exist and lays out one JPEG
// per listed image, in its synset's folder.
func TestImageNetTree(t *testing.T) {
	tr := ReadImageNetTree[map[string]int](t, "../../testdata/torch/preprocess")
	assert.Equal(t, 1000, tr.Args["num_classes"])
	assert.FileExists(t, filepath.Join(tr.Dir, tr.Synsets))
	assert.FileExists(t, filepath.Join(tr.Dir, tr.PT))
	root := t.TempDir()
	tr.Build(t, root)
	built, err := filepath.Glob(filepath.Join(root, "val", "n*", "*.JPEG"))
	require.NoError(t, err)
	assert.Len(t, built, len(tr.Images))
	for syn, files := range tr.Tree {
		for _, f := range files {
			assert.FileExists(t, filepath.Join(root, "val", syn, strings.TrimSuffix(f, ".jpg")+".JPEG"))
		}
	}
}

func TestDecodeFile(t *testing.T) {
	img, format := DecodeFile(t, "../../testdata/torch/preprocess/inputs/dog420.jpg")
	assert.Equal(t, "jpeg", format)
	assert.Positive(t, img.Bounds().Dx())
}

func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 800, strings.Count(b.String(), "\n"))
}

func TestAllocated(t *testing.T) {
	var keep []byte
	n := Allocated(func() { keep = make([]byte, 1<<20) })
	assert.GreaterOrEqual(t, n, uint64(1<<20))
	assert.Len(t, keep, 1<<20)
}

// Need skips the test outside CI when something is missing.
func TestNeed(t *testing.T) {
	t.Setenv("CI", "")
	reached := false
	t.Run("missing", func(t *testing.T) { Need(t, errors.New("no tool")); reached = true })
	assert.False(t, reached, "skipped")
	t.Run("present", func(t *testing.T) { NeedFile(t, "doc.go"); reached = true })
	assert.True(t, reached)
}

// helperEnv makes the test binary, run again by TestStart, an HTTP server.
const helperEnv = "TESTUTIL_HELPER_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(helperEnv); addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			panic(err)
		}
		fmt.Println("msg=listening addr=" + l.Addr().String())
		panic(http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	}
	os.Exit(m.Run())
}

// A started process is found by its log line, its port and its answer,
// and is gone once killed.
func TestStart(t *testing.T) {
	p := Start(t, append(os.Environ(), helperEnv+"=127.0.0.1:0"), os.Args[0])
	addr := p.WaitLog(t, regexp.MustCompile(`addr=(\S+)`), 30*time.Second)[1]
	p.WaitListen(t, addr, 10*time.Second)
	p.WaitOK(t, "http://"+addr+"/", 10*time.Second)
	assert.False(t, p.Exited())
	p.Kill()
	assert.True(t, p.Exited())
	assert.Error(t, p.Err(), "killed")
	p.Kill() // again: nothing
	_, err := net.Dial("tcp", addr)
	assert.Error(t, err, "nothing listens once killed")
}

func TestGoBuild(t *testing.T) {
	bin := GoBuild(t, "github.com/fmixzoo/zoo/internal/testutil/testdata/hello")
	p := Start(t, nil, bin)
	require.NoError(t, p.Wait(t, 30*time.Second))
	assert.Equal(t, "hello\n", p.Logs.String())
}
