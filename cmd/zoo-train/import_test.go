package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/engine"
	"github.com/fmixzoo/zoo/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const torchDir = "../../testdata/torch"

func f32s(t *testing.T, name string) []float32 {
	b, err := os.ReadFile(filepath.Join(torchDir, name))
	require.NoError(t, err)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// zoo-train import reproduces PyTorch's logits for the preact_resnet18,
// pyramidnet and resnet101-layout fixtures, from both serialisations.
func TestImportCLIReproducesPyTorch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		shape []int
	}{
		{"preact_resnet18", []string{"--arch", "preact_resnet18", "--width", "8"}, []int{3, 3, 32, 32}},
		{"pyramidnet", []string{"--arch", "pyramidnet", "--depth", "20", "--alpha", "20"}, []int{3, 3, 32, 32}},
		{"resnet101", []string{"--arch", "resnet101", "--width", "4", "--num-classes", "10"}, []int{3, 3, 64, 64}},
	} {
		for _, file := range []string{tc.name + ".pt", tc.name + ".legacy.pt"} {
			out := filepath.Join(t.TempDir(), "m.onnx")
			var stdout, stderr bytes.Buffer
			args := append([]string{"import"}, tc.flags...)
			args = append(args, "--in", filepath.Join(torchDir, file), "--out", out)
			require.Equal(t, 0, run(args, &stdout, &stderr), stderr.String())
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			m, err := engine.Read(data)
			require.NoError(t, err)
			got, err := m.Run(context.Background(), engine.Tensor{Shape: tc.shape, Data: f32s(t, tc.name+".input.f32")})
			require.NoError(t, err)
			want := f32s(t, tc.name+".logits.f32")
			require.Len(t, got[0].Data, len(want))
			for i := range want {
				assert.InDelta(t, want[i], got[0].Data[i], 1e-4*math.Max(1, math.Abs(float64(want[i]))), "%s logit %d", file, i)
			}
		}
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"import", "--arch", "lenet", "--in", filepath.Join(torchDir, "fault_missing_key.pt"), "--out", filepath.Join(t.TempDir(), "x.onnx")}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "missing keys")
}

// zoo-train pull fills a store and a manifest from which ZOO_OFFLINE
// loads work.
func TestPullFillsStoreForOfflineUse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cifar10/preact-resnet18/cifar10_preact_resnet18_fmix_0.pt" {
			http.ServeFile(w, r, filepath.Join(torchDir, "preact_resnet18.pt"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	// A manifest whose published preact entry uses the fixture's width.
	src, err := os.ReadFile("../../weights.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(src, &doc))
	for _, m := range doc["models"].([]any) {
		e := m.(map[string]any)
		if e["name"] == "preact_resnet18_cifar10_fmix" {
			e["args"].(map[string]any)["width"] = 8
		}
	}
	manifest := filepath.Join(dir, "weights.json")
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, b, 0o644))
	t.Setenv("ZOO_MANIFEST", manifest)
	t.Setenv("ZOO_UPSTREAM", srv.URL)
	t.Setenv("ZOO_CACHE", filepath.Join(dir, "cache"))
	store := filepath.Join(dir, "store")
	require.NoError(t, os.MkdirAll(store, 0o755))
	pulled := filepath.Join(dir, "pulled.json")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"pull", "--to", store, "--manifest", pulled, "preact_resnet18_cifar10_fmix"}, &stdout, &stderr), stderr.String())

	m, err := hub.ReadManifest(context.Background(), pulled, nil)
	require.NoError(t, err)
	e, err := m.Lookup("preact_resnet18_cifar10_fmix")
	require.NoError(t, err)
	require.NotEmpty(t, e.Weights.SHA256)
	srv.Close() // air-gapped from here on
	model, err := hub.Load("preact_resnet18_cifar10_fmix", hub.WithManifest(m), hub.WithStoreURI("file://"+store),
		hub.WithCache(t.TempDir()), hub.WithOffline(true))
	require.NoError(t, err)
	got, err := model.Run(context.Background(), hub.Tensor{Shape: []int{3, 3, 32, 32}, Data: f32s(t, "preact_resnet18.input.f32")})
	require.NoError(t, err)
	want := f32s(t, "preact_resnet18.logits.f32")
	for i := range want {
		assert.InDelta(t, want[i], got[0].Data[i], 1e-4*math.Max(1, math.Abs(float64(want[i]))))
	}
}
