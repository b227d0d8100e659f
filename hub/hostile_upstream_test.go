package hub

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/internal/torchpt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deflatedPickle is a torch zip archive holding only data.pkl, deflated.
func deflatedPickle(t *testing.T, pkl []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	require.NoError(t, err)
	_, err = w.Write(pkl)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestUpstreamHostileCheckpoints: the first request for a published name
// whose upstream answers with a crafted checkpoint (anyone who can answer
// the plain-http upstream URL can send one) is an error that says what was
// wrong, within a stated allocation; nothing is cached and the process
// lives on. The deep key once ended the process with a stack overflow,
// the flood cost 2.8 GB.
func TestUpstreamHostileCheckpoints(t *testing.T) {
	lenet := torchFixture{Name: "lenet", Arch: "lenet", Args: Args{NumClasses: 10, NC: 1, Width: 8}, InputShape: []int{1, 1, 28, 28}, LogitsShape: []int{1, 10}}
	m := upstreamManifest(t, []torchFixture{lenet})
	deepKey := append([]byte{0x80, 2, '}', 'N'}, bytes.Repeat([]byte{0x85}, 1_000_000)...)
	flood := append([]byte{0x80, 2}, bytes.Repeat([]byte{'}'}, 16<<20)...)
	for _, tc := range []struct {
		name, want string
		file       []byte
		maxAlloc   uint64
	}{
		{"million-deep dict key", "nested deeper than 100", deflatedPickle(t, append(deepKey, 'N', 's', '.')), 16 << 20},
		{"16M one-byte opcodes", "more than 65536 values on the stack", deflatedPickle(t, append(flood, '.')), 64 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/models/lenet_0.pt" {
					http.NotFound(w, r)
					return
				}
				w.Write(tc.file)
			}))
			defer up.Close()
			t.Setenv(EnvUpstream, up.URL)
			cache := t.TempDir()
			store := "file://" + t.TempDir()
			var err error
			n := testutil.Allocated(func() {
				_, err = Load("lenet_published", WithManifest(m), WithStoreURI(store), WithCache(cache), WithOffline(false))
			})
			require.Error(t, err)
			assert.ErrorIs(t, err, torchpt.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
			assert.Less(t, n, tc.maxAlloc, "%d-byte checkpoint: %d MiB allocated", len(tc.file), n>>20)
			t.Logf("%d-byte checkpoint: %.1f MiB allocated: %v", len(tc.file), float64(n)/(1<<20), err)
			files, _ := filepath.Glob(filepath.Join(cache, "*.onnx"))
			assert.Empty(t, files, "nothing cached")
		})
	}
}
