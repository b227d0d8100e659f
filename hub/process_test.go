package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary double as a fetching child process for
// TestCacheBetweenProcesses.
func TestMain(m *testing.M) {
	if os.Getenv("HUB_TEST_CHILD") == "1" {
		if err := childFetch(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childFetch() error {
	size, err := strconv.ParseInt(os.Getenv("HUB_TEST_SIZE"), 10, 64)
	if err != nil {
		return err
	}
	c, err := OpenCache(os.Getenv("HUB_TEST_CACHE"))
	if err != nil {
		return err
	}
	s, err := NewHTTPStore(os.Getenv("HUB_TEST_URL"), nil)
	if err != nil {
		return err
	}
	open := func(ctx context.Context) (io.ReadCloser, int64, error) {
		rc, info, err := s.Get(ctx, "w.onnx")
		return rc, info.Size, err
	}
	_, err = c.Fetch(context.Background(), Digest{SHA256: os.Getenv("HUB_TEST_SHA"), Size: size}, open, FetchOptions{What: "w"})
	return err
}

// TestCacheBetweenProcesses starts four processes that fetch the same file
// into one cache at once: the lock file lets exactly one download it.
func TestCacheBetweenProcesses(t *testing.T) {
	data := randomBytes(2<<20, 11)
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		time.Sleep(300 * time.Millisecond) // keep the lock held while the others start
		w.Write(data)
	}))
	defer srv.Close()
	cache := t.TempDir()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "HUB_TEST_CHILD=1", "HUB_TEST_CACHE="+cache, "HUB_TEST_URL="+srv.URL,
				"HUB_TEST_SHA="+sha(data), "HUB_TEST_SIZE="+strconv.Itoa(len(data)))
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "child %d: %s", i, out)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), gets.Load(), "one download for four processes")
	c, err := OpenCache(cache)
	require.NoError(t, err)
	got, err := c.Read(Digest{SHA256: sha(data), Size: int64(len(data))})
	require.NoError(t, err)
	assert.Equal(t, data, got)
}
