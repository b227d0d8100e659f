package zoo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/internal/torchpt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtures = "../testdata/torch"

type fixture struct {
	Name          string `json:"name"`
	Arch          string `json:"arch"`
	Args          Args   `json:"args"`
	InputShape    []int  `json:"input_shape"`
	LogitsShape   []int  `json:"logits_shape"`
	Params        int    `json:"params"`
	StateDictKeys int    `json:"state_dict_keys"`
	ONNX          string `json:"onnx"`
	Input         string `json:"input"`
	Logits        string `json:"logits"`
	PT            string `json:"pt"`
	LegacyPT      string `json:"legacy_pt"`
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "manifest.json"))
	require.NoError(t, err)
	var fx []fixture
	require.NoError(t, json.Unmarshal(data, &fx))
	require.NotEmpty(t, fx)
	return fx
}

// The published parameter counts (PyTorch's sum of numel over parameters()).
func TestParameterCountsMatchPublished(t *testing.T) {
	for _, tc := range []struct {
		arch string
		args Args
		want int
	}{
		{"preact_resnet18", Args{}, 11_171_274},
		{"pyramidnet", Args{}, 26_210_842},
		{"resnet101", Args{}, 44_549_160},
		{"wrn", Args{}, 36_479_194},
		{"densenet_bc", Args{}, 25_624_430},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			n, err := Build(tc.arch, tc.args)
			require.NoError(t, err)
			assert.Equal(t, tc.want, n.NumParams())
		})
	}
}

// Every fixture's state dict, in both serialisations, fits the Go
// definition key for key and shape for shape.
func TestFixturesLoadStrict(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			n, err := Build(fx.Arch, fx.Args)
			require.NoError(t, err)
			assert.Equal(t, fx.Params, n.NumParams())
			assert.Len(t, n.StateDictKeys(), fx.StateDictKeys)
			for _, file := range []string{fx.PT, fx.LegacyPT} {
				f, err := os.Open(filepath.Join(fixtures, file))
				require.NoError(t, err)
				st, err := f.Stat()
				require.NoError(t, err)
				imported, err := ImportPT(fx.Arch, fx.Args, f, st.Size())
				f.Close()
				require.NoError(t, err, file)
				assert.Equal(t, fx.Params, imported.NumParams())
			}
		})
	}
}

func TestStateDictErrorsNameKeys(t *testing.T) {
	n, err := Build("lenet", Args{})
	require.NoError(t, err)
	sd := map[string]torchpt.Tensor{}
	for _, p := range append(n.Params(), n.Buffers()...) {
		sd[p.Name] = torchpt.Tensor{Shape: p.Shape, Data: make([]float32, p.Size())}
	}
	delete(sd, "fc2.bias")
	sd["fc3.weight"] = torchpt.Tensor{Shape: []int{1}, Data: []float32{1}}
	sd["conv1.weight"] = torchpt.Tensor{Shape: []int{8, 1, 3, 3}, Data: make([]float32, 72)}
	before := append([]float32(nil), n.Params()[0].Value...)
	err = n.LoadStateDict(sd)
	var sde *StateDictError
	require.ErrorAs(t, err, &sde)
	assert.Equal(t, []string{"fc2.bias"}, sde.Missing)
	assert.Equal(t, []string{"fc3.weight"}, sde.Unexpected)
	require.Len(t, sde.Mismatched, 1)
	assert.Contains(t, sde.Mismatched[0], "conv1.weight")
	assert.Equal(t, before, n.Params()[0].Value, "a failed load must change nothing")
}

func TestBuildRejectsBadArgs(t *testing.T) {
	for _, tc := range []struct {
		arch string
		args Args
	}{
		{"nope", Args{}},
		{"pyramidnet", Args{Depth: 30}},
		{"wrn", Args{Depth: 27}},
		{"densenet_bc", Args{Depth: 9}},
		{"lenet", Args{Width: -1}},
		{"lenet", Args{NumClasses: -3}},
	} {
		_, err := Build(tc.arch, tc.args)
		assert.Error(t, err, "%s %+v", tc.arch, tc.args)
	}
}
