package hub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fmixzoo "github.com/fmixzoo/zoo"
)

func TestEmbeddedManifest(t *testing.T) {
	m, err := ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)
	published := []string{
		"preact_resnet18_cifar10_baseline", "preact_resnet18_cifar10_mixup", "preact_resnet18_cifar10_cutmix",
		"preact_resnet18_cifar10_fmix", "preact_resnet18_cifar10_fmixplusmixup",
		"pyramidnet_cifar10_baseline", "pyramidnet_cifar10_mixup", "pyramidnet_cifar10_cutmix", "pyramidnet_cifar10_fmix",
		"renset101_imagenet_baseline", "renset101_imagenet_mixup", "renset101_imagenet_cutmix", "renset101_imagenet_fmix",
	}
	for _, n := range published {
		_, err := m.Lookup(n)
		assert.NoError(t, err, n)
	}
	top1 := func(name string) any {
		e, err := m.Lookup(name)
		require.NoError(t, err)
		if e.Accuracy.Top1 == nil {
			return nil
		}
		return *e.Accuracy.Top1
	}
	tests := []struct {
		name string
		top1 any
	}{
		{"pyramidnet_cifar10_baseline", 98.31}, {"pyramidnet_cifar10_mixup", 97.92},
		{"pyramidnet_cifar10_cutmix", nil}, {"pyramidnet_cifar10_fmix", 98.64},
		{"renset101_imagenet_baseline", 76.51}, {"resnet101_imagenet_mixup", 76.27},
		{"resnet101_imagenet_cutmix", nil}, {"resnet101_imagenet_fmix", 76.72},
		{"preact_resnet18_cifar10_fmix", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.top1, top1(tt.name), tt.name)
	}

	e, err := m.Lookup("resnet101_imagenet_fmix")
	require.NoError(t, err)
	assert.Equal(t, "renset101_imagenet_fmix", e.Name, "the alias resolves to the upstream spelling")
	assert.Len(t, e.Labels, 1000)
	assert.Equal(t, "tench", e.Labels[0])
	assert.Equal(t, []int{3, 224, 224}, e.Input.Shape)
	assert.Equal(t, 256, e.Input.Resize)
	assert.Contains(t, e.Notes, "unverified")
	assert.Equal(t, "http://marc.ecs.soton.ac.uk/pytorch-models/imagenet/resnet101/imagenet_resnet101_fmix.pt", e.Upstream.URL("", 0))

	p, err := m.Lookup("preact_resnet18_cifar10_cutmix")
	require.NoError(t, err)
	assert.Equal(t, "http://mirror/x/cifar10/preact-resnet18/cifar10_preact_resnet18_cutmix_3.pt", p.Upstream.URL("http://mirror/x/", 3))
	assert.Equal(t, 5, p.Upstream.Repeats)
	assert.Equal(t, []float64{0.4914, 0.4822, 0.4465}, p.Input.Mean)
	assert.Equal(t, "airplane", p.Labels[0])

	py, err := m.Lookup("pyramidnet_cifar10_fmix")
	require.NoError(t, err)
	assert.Equal(t, Args{NumClasses: 10, NC: 3, Depth: 272, Alpha: 200}, py.Args)
}

func TestListAndInfo(t *testing.T) {
	t.Setenv("ZOO_MANIFEST", "")
	assert.Equal(t, []string{"pyramidnet_cifar10_baseline", "pyramidnet_cifar10_cutmix", "pyramidnet_cifar10_fmix", "pyramidnet_cifar10_mixup"},
		List("pyramidnet_*"))
	assert.Equal(t, []string{"preact_resnet18_cifar10_fmix", "pyramidnet_cifar10_fmix"}, List("*_cifar10_fmix"))
	assert.Empty(t, List("[bad"))
	assert.GreaterOrEqual(t, len(List("")), 13)
	e, err := Info("pyramidnet_cifar10_fmix")
	require.NoError(t, err)
	assert.Equal(t, "pyramidnet", e.Arch)
	_, err = Info("nope")
	assert.ErrorIs(t, err, ErrUnknownModel)
	_, err = Info("../../etc/passwd")
	assert.ErrorIs(t, err, ErrInvalidName)

	// ZOO_MANIFEST replaces the embedded manifest.
	alt := filepath.Join(t.TempDir(), "weights.json")
	doc := `{"schema": 1, "models": [` + entryJSON("only_one", `"labels": ["a", "b"]`) + `]}`
	require.NoError(t, os.WriteFile(alt, []byte(doc), 0o644))
	t.Setenv("ZOO_MANIFEST", alt)
	assert.Equal(t, []string{"only_one"}, List("*"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Replace(doc, "only_one", "from_url", 1)))
	}))
	defer srv.Close()
	t.Setenv("ZOO_MANIFEST", srv.URL+"/weights.json")
	assert.Equal(t, []string{"from_url"}, List("*"), "ZOO_MANIFEST may be a URL")
	t.Setenv("ZOO_MANIFEST", filepath.Join(t.TempDir(), "missing.json"))
	assert.Nil(t, List("*"))
	_, err = Info("only_one")
	assert.Error(t, err)
}

func entryJSON(name, extra string) string {
	s := `{"name": "` + name + `", "arch": "lenet", "args": {"num_classes": 2, "nc": 1}, "dataset": "d", "msda": "fmix",
	 "input": {"shape": [1, 4, 4], "mean": [0.5], "std": [0.25], "resize": 0, "crop": 4, "interpolation": "bilinear", "scale": 255},
	 "accuracy": {"source": "none"}, "weights": {"key": "` + name + `.onnx", "format": "onnx"}`
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

func TestParseManifestErrors(t *testing.T) {
	good := entryJSON("m", `"labels": "two"`)
	sets := `"label_sets": {"two": ["a", "b"]}`
	tests := []struct {
		name, doc, want string
	}{
		{"schema", `{"schema": 2, "models": []}`, "schema 2"},
		{"not json", `{`, "parse manifest"},
		{"unknown field", `{"schema": 1, "modles": []}`, "unknown field"},
		{"duplicate", `{"schema": 1, ` + sets + `, "models": [` + good + `,` + good + `]}`, "used twice"},
		{"unknown label set", `{"schema": 1, "models": [` + good + `]}`, "unknown label set"},
		{"label count", `{"schema": 1, "models": [` + entryJSON("m", `"labels": ["a"]`) + `]}`, "1 labels for 2 classes"},
		{"traversal name", `{"schema": 1, "models": [` + entryJSON("../x", "") + `]}`, "invalid name"},
		{"traversal key", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"key": "m.onnx"`, `"key": "../m.onnx"`, 1) + `]}`, "object key"},
		{"bad sha", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"format": "onnx"`, `"format": "onnx", "sha256": "abc", "size": 3`, 1) + `]}`, "64 lower-case hex"},
		{"sha without size", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"format": "onnx"`, `"format": "onnx", "sha256": "`+strings.Repeat("a", 64)+`"`, 1) + `]}`, "weights.size"},
		{"std zero", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"std": [0.25]`, `"std": [0]`, 1) + `]}`, "std"},
		{"mean count", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"mean": [0.5]`, `"mean": [0.5, 0.5]`, 1) + `]}`, "mean/std"},
		{"crop", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"crop": 4`, `"crop": 5`, 1) + `]}`, "input.crop"},
		{"interpolation", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"bilinear"`, `"bicubic"`, 1) + `]}`, "interpolation"},
		{"accuracy source", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"source": "none"`, `"source": "vibes"`, 1) + `]}`, "accuracy.source"},
		{"format", `{"schema": 1, "models": [` + strings.Replace(entryJSON("m", ""), `"format": "onnx"`, `"format": "pt"`, 1) + `]}`, "weights.format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	m, err := ParseManifest([]byte(`{"schema": 1, ` + sets + `, "models": [` + good + `]}`))
	require.NoError(t, err)
	e, err := m.Lookup("m")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, e.Labels)
	assert.Equal(t, "two", e.LabelSet)
	js, err := json.Marshal(e)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"labels":["a","b"]`, "entries marshal with resolved labels")
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"pyramidnet_cifar10_fmix", "lenet_fashion_fmix", "a", "x-1.2"} {
		assert.NoError(t, ValidateName(ok), ok)
	}
	for _, bad := range []string{"", "../x", "a/b", "A", "a..b", ".hidden", "a b", `a\b`, strings.Repeat("a", 129), "a\x00"} {
		assert.ErrorIs(t, ValidateName(bad), ErrInvalidName, bad)
	}
}
