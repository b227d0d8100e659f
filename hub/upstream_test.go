package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/internal/torchpt"
	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstreamServer serves files at upstream-like paths; files maps a URL path
// to a file under testdata/torch (or to raw bytes via bodies).
type upstreamServer struct {
	*httptest.Server
	files  map[string]string
	bodies map[string][]byte
	hits   atomic.Int64
}

func newUpstream(t *testing.T) *upstreamServer {
	u := &upstreamServer{files: map[string]string{}, bodies: map[string][]byte{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		if b, ok := u.bodies[r.URL.Path]; ok {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)+100)) // truncated on purpose when registered so
			w.Write(b)
			return
		}
		f, ok := u.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(torchDir, f))
	}))
	t.Cleanup(u.Close)
	return u
}

// upstreamManifest is a weights.json whose published entries use the
// fixtures' small args and whose store has no ONNX.
func upstreamManifest(t *testing.T, fixtures []torchFixture) *Manifest {
	type entry map[string]any
	var models []entry
	for _, fx := range fixtures {
		c, h, w := fx.InputShape[1], fx.InputShape[2], fx.InputShape[3]
		mean := make([]float64, c)
		std := make([]float64, c)
		for i := range std {
			std[i] = 1
		}
		labels := make([]string, fx.LogitsShape[1])
		for i := range labels {
			labels[i] = fmt.Sprint("class", i)
		}
		models = append(models, entry{
			"name": fx.Name + "_published", "arch": fx.Arch, "args": fx.Args, "dataset": "cifar10", "msda": "fmix",
			"input":    entry{"shape": []int{c, h, w}, "mean": mean, "std": std, "resize": 0, "crop": h, "interpolation": "bilinear", "scale": 255},
			"labels":   labels,
			"accuracy": entry{"source": "none"},
			"weights":  entry{"key": fx.Name + ".onnx", "format": "onnx"},
			"upstream": entry{"base": "http://upstream.invalid", "path": "/models/" + fx.Name + "_{repeat}.pt", "repeats": 5, "format": "torch-state-dict"},
		})
	}
	b, err := json.Marshal(map[string]any{"schema": 1, "models": models})
	require.NoError(t, err)
	m, err := ParseManifest(b)
	require.NoError(t, err)
	return m
}

func publishedFixtures(t *testing.T) []torchFixture {
	var out []torchFixture
	for _, fx := range testutil.TorchFixtures[Args](t, torchDir) {
		if fx.Name == "preact_resnet18" || fx.Name == "pyramidnet" || fx.Name == "resnet101" {
			out = append(out, fx)
		}
	}
	require.Len(t, out, 3)
	return out
}

// Published names whose store lacks ONNX are converted from the upstream
// PyTorch checkpoint (both serialisations), reproduce PyTorch's logits,
// and load again offline from the verified cache.
func TestLoadConvertsUpstreamCheckpoints(t *testing.T) {
	fixtures := publishedFixtures(t)
	m := upstreamManifest(t, fixtures)
	for _, legacy := range []bool{false, true} {
		up := newUpstream(t)
		t.Setenv(EnvUpstream, up.URL)
		cache := t.TempDir()
		for _, fx := range fixtures {
			file := fx.Name + ".pt"
			if legacy {
				file = fx.Name + ".legacy.pt"
			}
			up.files["/models/"+fx.Name+"_0.pt"] = file
		}
		for _, fx := range fixtures {
			name := fx.Name + "_published"
			model, err := Load(name, WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(false))
			require.NoError(t, err, "%s legacy=%v", name, legacy)
			out, err := model.Run(context.Background(), Tensor{Shape: fx.InputShape, Data: testutil.ReadF32(t, filepath.Join(torchDir, fx.Input))})
			require.NoError(t, err)
			testutil.AssertLogits(t, testutil.ReadF32(t, filepath.Join(torchDir, fx.Logits)), out[0].Data)

			hits := up.hits.Load()
			again, err := Load(name, WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(true))
			require.NoError(t, err, "offline reload")
			assert.Equal(t, model.Info().Name, again.Info().Name)
			assert.Equal(t, hits, up.hits.Load(), "the offline load downloads nothing")
		}
	}
}

// Faults of the upstream path: each a clear error, nothing cached.
func TestUpstreamFaults(t *testing.T) {
	lenet := torchFixture{Name: "lenet", Arch: "lenet", Args: Args{NumClasses: 10, NC: 1, Width: 8}, InputShape: []int{1, 1, 28, 28}, LogitsShape: []int{1, 10}}
	m := upstreamManifest(t, []torchFixture{lenet})
	for _, tc := range []struct {
		name, file string
		body       []byte
		want       string
		is         error
	}{
		{name: "404", want: "HTTP 404", is: ErrNotFound},
		{name: "truncated", body: []byte("PK\x03\x04 partial"), want: "truncated"},
		{name: "not a state dict", file: "fault_not_state_dict.pt", is: torchpt.ErrNotStateDict},
		{name: "missing key", file: "fault_missing_key.pt", want: "missing keys"},
		{name: "mis-shaped key", file: "fault_misshaped_key.pt", want: "size mismatch"},
		{name: "code execution", file: "fault_exec_system.pt", is: torchpt.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			t.Setenv(EnvUpstream, up.URL)
			switch {
			case tc.file != "":
				up.files["/models/lenet_0.pt"] = tc.file
			case tc.body != nil:
				up.bodies["/models/lenet_0.pt"] = tc.body
			}
			cache := t.TempDir()
			_, err := Load("lenet_published", WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(false))
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.want)
			var sde *zoo.StateDictError
			if strings.Contains(tc.want, "keys") || strings.Contains(tc.want, "mismatch") {
				assert.ErrorAs(t, err, &sde)
			}
			files, _ := filepath.Glob(filepath.Join(cache, "*.onnx"))
			assert.Empty(t, files, "nothing cached")
			recs, _ := filepath.Glob(filepath.Join(cache, "upstream", "*.json"))
			assert.Empty(t, recs, "nothing recorded")
		})
	}
}

// Trust on first use: a different file under the same URL is refused
// unless ZOO_TRUST_NEW=1.
func TestUpstreamTrustOnFirstUse(t *testing.T) {
	fx := publishedFixtures(t)[0]
	m := upstreamManifest(t, []torchFixture{fx})
	up := newUpstream(t)
	t.Setenv(EnvUpstream, up.URL)
	cache := t.TempDir()
	path := "/models/" + fx.Name + "_0.pt"
	up.files[path] = fx.Name + ".pt"
	name := fx.Name + "_published"
	_, err := Load(name, WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(false))
	require.NoError(t, err)
	// Lose the converted ONNX so the next load must download again; the
	// upstream now serves another (equally valid) serialisation.
	files, _ := filepath.Glob(filepath.Join(cache, "*.onnx"))
	for _, f := range files {
		require.NoError(t, os.Remove(f))
	}
	up.files[path] = fx.Name + ".legacy.pt"
	_, err = Load(name, WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(false))
	require.ErrorIs(t, err, ErrUpstreamChanged)
	t.Setenv(EnvTrustNew, "1")
	_, err = Load(name, WithManifest(m), WithStoreURI("file://"+t.TempDir()), WithCache(cache), WithOffline(false))
	require.NoError(t, err)
}
