package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// TestPublishedFullSize is `make test-published`: full-size random-weight
// checkpoints of the three published architectures, written by Debian's
// python3-torch (testdata/torch/gen_published.py) into ZOO_TEST_PUBLISHED,
// are served on loopback as the upstream, and hub.Load of the real names
// (preact_resnet18_cifar10_fmix, pyramidnet_cifar10_fmix,
// renset101_imagenet_fmix) converts them and reproduces PyTorch's logits.
func TestPublishedFullSize(t *testing.T) {
	dir := os.Getenv("ZOO_TEST_PUBLISHED")
	if dir == "" {
		t.Skip("set ZOO_TEST_PUBLISHED to gen_published.py's output (make test-published)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "published.json"))
	require.NoError(t, err)
	var list []struct {
		Name       string `json:"name"`
		Input      string `json:"input"`
		Logits     string `json:"logits"`
		InputShape []int  `json:"input_shape"`
	}
	require.NoError(t, json.Unmarshal(b, &list))
	require.Len(t, list, 3)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	t.Setenv(EnvUpstream, srv.URL)
	for _, p := range list {
		t.Run(p.Name, func(t *testing.T) {
			runtime.GC()
			start := time.Now()
			m, err := Load(p.Name, WithStoreURI("file://"+t.TempDir()), WithCache(t.TempDir()), WithOffline(false))
			require.NoError(t, err)
			elapsed := time.Since(start)
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			t.Logf("%s: download + convert + build %.1fs; process peak RSS so far %d MiB", p.Name, elapsed.Seconds(), ru.Maxrss/1024)
			out, err := m.Run(context.Background(), Tensor{Shape: p.InputShape, Data: testutil.ReadF32(t, filepath.Join(dir, p.Input))})
			require.NoError(t, err)
			testutil.AssertLogits(t, testutil.ReadF32(t, filepath.Join(dir, p.Logits)), out[0].Data)
		})
	}
}
