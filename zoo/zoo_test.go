package zoo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/fmixzoo/zoo/internal/torchpt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtures = "../testdata/torch"

// fixture is one entry of testdata/torch/manifest.json.
type fixture = testutil.TorchFixture[Args]

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	return testutil.TorchFixtures[Args](t, fixtures)
}

// readF32 reads a raw float32 fixture of testdata/torch.
func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	return testutil.ReadF32(t, filepath.Join(fixtures, name))
}

// openFixture opens a file of testdata/torch for the test, with its size.
func openFixture(t *testing.T, name string) (*os.File, int64) {
	t.Helper()
	return testutil.Open(t, filepath.Join(fixtures, name))
}

// importFixture imports the fixture's state dict from file (its PT or
// LegacyPT) for the fixture's input shape.
func importFixture(t *testing.T, fx fixture, file string) *Net {
	t.Helper()
	f, size := openFixture(t, file)
	n, err := ImportPT(fx.Arch, fx.Args, f, size)
	require.NoError(t, err)
	n.input = fx.InputShape[1:]
	return n
}

// smallNet is a network of one architecture at a size a test can train
// and differentiate in well under a second.
type smallNet struct {
	arch string
	args Args
}

// smallNets holds one of each architecture; the resnets have class counts
// of their own, so that their output widths differ.
var smallNets = []smallNet{
	{"lenet", Args{Width: 4}},
	{"preact_resnet18", Args{Width: 4, InputSize: 16}},
	{"pyramidnet", Args{Depth: 11, Alpha: 6, InputSize: 32}},
	{"wrn", Args{Depth: 10, Widen: 1, InputSize: 32}},
	{"densenet_bc", Args{Depth: 10, Growth: 4, InputSize: 16}},
	{"resnet18", Args{Width: 4, NumClasses: 10, InputSize: 32}},
	{"resnet34", Args{Width: 2, NumClasses: 5, InputSize: 32}},
	{"resnet50", Args{Width: 4, NumClasses: 6, InputSize: 32}},
	{"resnet101", Args{Width: 2, NumClasses: 7, InputSize: 32}},
	{"resnet152", Args{Width: 2, NumClasses: 8, InputSize: 32}},
}

func (s smallNet) build(t *testing.T) *Net {
	t.Helper()
	n, err := Build(s.arch, s.args)
	require.NoError(t, err)
	return n
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
				f, size := openFixture(t, file)
				imported, err := ImportPT(fx.Arch, fx.Args, f, size)
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
