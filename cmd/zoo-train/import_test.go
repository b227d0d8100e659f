package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fmixzoo/zoo/engine"
	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/s3test"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const torchDir = "../../testdata/torch"

func f32s(t *testing.T, name string) []float32 {
	t.Helper()
	return testutil.ReadF32(t, filepath.Join(torchDir, name))
}

// scratchStore makes an empty file store under dir and a copy of the
// shipped weights.json beside it, for --push.
func scratchStore(t *testing.T, dir string) (store, manifest string) {
	t.Helper()
	store = filepath.Join(dir, "store")
	require.NoError(t, os.MkdirAll(store, 0o755))
	manifest = filepath.Join(dir, "weights.json")
	src, err := os.ReadFile("../../weights.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, src, 0o644))
	return store, manifest
}

// zoo-train import reproduces PyTorch's logits for the preact_resnet18,
// pyramidnet and resnet101-layout fixtures, from both serialisations.
func TestImportCLIReproducesPyTorch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		flags    []string
		shape    []int
		hubShape []int
	}{
		{"preact_resnet18", []string{"--arch", "preact_resnet18", "--width", "8"}, []int{3, 3, 32, 32}, []int{3, 32, 32}},
		{"pyramidnet", []string{"--arch", "pyramidnet", "--depth", "20", "--alpha", "20"}, []int{3, 3, 32, 32}, []int{3, 32, 32}},
		{"resnet101", []string{"--arch", "resnet101", "--width", "4", "--num-classes", "10", "--input-size", "64"}, []int{3, 3, 64, 64}, []int{3, 64, 64}},
	} {
		for _, file := range []string{tc.name + ".pt", tc.name + ".legacy.pt"} {
			out := filepath.Join(t.TempDir(), "m.onnx")
			var stdout, stderr bytes.Buffer
			args := append([]string{"import"}, tc.flags...)
			args = append(args, "--in", filepath.Join(torchDir, file), "--out", out)
			require.Equal(t, 0, run(args, &stdout, &stderr), stderr.String())
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			hm, err := hub.ReadONNX(data) // the file opens on its own
			require.NoError(t, err)
			assert.Equal(t, tc.hubShape, hm.Info().Input.Shape, file)
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

// Every ONNX zoo-train import writes opens with hub.ReadONNX, with and
// without --push: a fixed H×W (the architecture's default input size or
// --input-size) and, with --dataset, that dataset's normalisation.
func TestImportWritesONNXHubOpens(t *testing.T) {
	dir := t.TempDir()
	store, manifest := scratchStore(t, dir)
	out := filepath.Join(dir, "p.onnx")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"import", "--arch", "preact_resnet18", "--width", "8", "--in", filepath.Join(torchDir, "preact_resnet18.pt"),
		"--out", out, "--push", "--name", "preact_test", "--store", store, "--manifest", manifest, "--dataset", "cifar-10"}, &stdout, &stderr), stderr.String())
	for _, path := range []string{out, filepath.Join(store, "preact_test.onnx")} {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		m, err := hub.ReadONNX(data)
		require.NoError(t, err, path)
		in := m.Info().Input
		assert.Equal(t, []int{3, 32, 32}, in.Shape)
		assert.Equal(t, []float64{0.4914, 0.4822, 0.4465}, roundAll(in.Mean), "CIFAR-10 normalisation")
		assert.Equal(t, "preact_test", m.Info().Name)
	}
	mf, err := hub.ReadManifest(context.Background(), manifest, nil)
	require.NoError(t, err)
	model, err := hub.Load("preact_test", hub.WithManifest(mf), hub.WithStoreURI("file://"+store), hub.WithCache(t.TempDir()), hub.WithProgress(nil))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 32, 32}, model.Info().Input.Shape)

	// --input-size sets the exported H×W; no --dataset: no normalisation.
	require.Equal(t, 0, run([]string{"import", "--arch", "preact_resnet18", "--width", "8", "--input-size", "48",
		"--in", filepath.Join(torchDir, "preact_resnet18.pt"), "--out", out}, &stdout, &stderr), stderr.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	m, err := hub.ReadONNX(data)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 48, 48}, m.Info().Input.Shape)
	assert.Equal(t, []float64{0, 0, 0}, m.Info().Input.Mean, "no --dataset: no normalisation")
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*1e4) / 1e4
	}
	return out
}

// publishedUpstream serves the fixture file (testdata/torch) as the
// published preact_resnet18_cifar10_fmix checkpoint, and nothing else.
func publishedUpstream(t *testing.T, file string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cifar10/preact-resnet18/cifar10_preact_resnet18_fmix_0.pt" {
			http.ServeFile(w, r, filepath.Join(torchDir, file))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fixtureWidthManifest writes dir/weights.json: the shipped manifest with
// the published preact entry at the fixture's width (8).
func fixtureWidthManifest(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile("../../weights.json")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(src, &doc))
	for _, m := range doc["models"].([]any) {
		if e := m.(map[string]any); e["name"] == "preact_resnet18_cifar10_fmix" {
			e["args"].(map[string]any)["width"] = 8
		}
	}
	manifest := filepath.Join(dir, "weights.json")
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, b, 0o644))
	return manifest
}

// zoo-train pull fills a store and a manifest from which ZOO_OFFLINE
// loads work.
func TestPullFillsStoreForOfflineUse(t *testing.T) {
	srv := publishedUpstream(t, "preact_resnet18.pt")
	dir := t.TempDir()
	t.Setenv("ZOO_MANIFEST", fixtureWidthManifest(t, dir))
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
	pulledONNX, err := os.ReadFile(filepath.Join(store, e.Weights.Key))
	require.NoError(t, err)
	opened, err := hub.ReadONNX(pulledONNX) // opens without the manifest too
	require.NoError(t, err)
	assert.Equal(t, e.Input.Shape, opened.Info().Input.Shape)
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

// The air-gapped deployment: zoo-train pull fills a real S3 bucket
// (versitygw) and its manifest; a zoo-serve process whose upstream is
// unreachable and whose cache is empty serves the published name from the
// bucket, verified against the pulled sha256.
func TestPullToS3ThenServe(t *testing.T) {
	srv := publishedUpstream(t, "preact_resnet18.legacy.pt")
	s3 := s3test.Start(t)
	s3.MakeBucket(t, "zoo")
	dir := t.TempDir()
	for k, v := range map[string]string{"ZOO_MANIFEST": fixtureWidthManifest(t, dir), "ZOO_UPSTREAM": srv.URL, "ZOO_CACHE": filepath.Join(dir, "pull-cache"),
		"ZOO_S3_ENDPOINT": s3.Endpoint, "AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey, "AWS_REGION": "us-east-1"} {
		t.Setenv(k, v)
	}
	pulled := filepath.Join(dir, "pulled.json")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"pull", "--to", "s3://zoo/published", "--manifest", pulled, "preact_resnet18_cifar10_fmix"}, &stdout, &stderr), stderr.String())
	srv.Close() // no upstream from here on

	addr := testutil.FreeAddr(t)
	serve := testutil.Start(t, append(os.Environ(), "ZOO_MANIFEST="+pulled, "ZOO_STORE=s3://zoo/published",
		"ZOO_CACHE="+filepath.Join(dir, "serve-cache"), "ZOO_UPSTREAM=http://127.0.0.1:1"),
		testutil.GoBuild(t, "github.com/fmixzoo/zoo/cmd/zoo-serve"), "--addr", addr, "--models", "preact_resnet18_cifar10_fmix")
	serve.WaitOK(t, "http://"+addr+"/readyz", 60*time.Second)
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var png bytes.Buffer
	require.NoError(t, pngEncode(&png, img))
	resp, err := http.Post("http://"+addr+"/v1/models/preact_resnet18_cifar10_fmix/classify?top_k=3", "image/png", &png)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"probability"`)
}

func pngEncode(w io.Writer, img image.Image) error { return png.Encode(w, img) }
