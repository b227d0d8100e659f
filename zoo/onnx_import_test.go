package zoo

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReadONNX gives back the exported Net: same architecture, arguments,
// parameters and BatchNorm statistics, hence the same logits.
func TestReadONNXRoundTrip(t *testing.T) {
	for _, tc := range smallNets {
		t.Run(tc.arch, func(t *testing.T) {
			n := tc.build(t)
			n.Init(42)
			randomizeBN(n, rand.New(rand.NewPCG(4, 2)))
			var buf bytes.Buffer
			require.NoError(t, n.ExportONNX(&buf, map[string]string{"name": "x"}))
			back, err := ReadONNX(buf.Bytes())
			require.NoError(t, err)
			assert.Equal(t, n.Arch(), back.Arch())
			assert.Equal(t, n.Args(), back.Args())
			for _, p := range append(n.Params(), n.Buffers()...) {
				if isBufferName(p.Name) && p.Shape != nil && len(p.Shape) == 0 {
					continue // num_batches_tracked is not exported
				}
				q, ok := back.Param(p.Name)
				require.True(t, ok, p.Name)
				assert.Equal(t, p.Value, q.Value, p.Name)
			}
		})
	}
}

func TestReadONNXRefuses(t *testing.T) {
	torchONNX, err := os.ReadFile(filepath.Join(fixtures, "lenet.onnx"))
	require.NoError(t, err)
	_, err = ReadONNX(torchONNX)
	require.ErrorIs(t, err, ErrNotZooONNX, "torch.onnx.export's file has no arch metadata")

	n, err := Build("lenet", Args{Width: 2})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, n.ExportONNX(&buf, nil))
	good := buf.Bytes()

	// Metadata claiming a narrower width: every parameter's shape is wrong.
	var wide bytes.Buffer
	require.NoError(t, n.ExportONNX(&wide, map[string]string{MetaArgs: `{"num_classes":10,"nc":1,"width":1}`}))
	_, err = ReadONNX(wide.Bytes())
	var sde *StateDictError
	require.ErrorAs(t, err, &sde)
	assert.NotEmpty(t, sde.Mismatched)

	// Metadata claiming a network larger than the file, or absurd sizes:
	// refused before anything is allocated.
	for _, args := range []string{
		`{"num_classes":10,"nc":1,"width":60000}`,
		`{"num_classes":10,"nc":1,"width":1000000000}`,
		`{"num_classes":10,"nc":3,"depth":1000000001}`,
	} {
		var huge bytes.Buffer
		arch := "lenet"
		if strings.Contains(args, "depth") {
			arch = "densenet_bc"
		}
		require.NoError(t, n.ExportONNX(&huge, map[string]string{MetaArch: arch, MetaArgs: args}))
		_, err = ReadONNX(huge.Bytes())
		require.Error(t, err, args)
		assert.Regexp(t, "more than the .* bytes|beyond", err.Error())
	}

	_, err = ReadONNX(good[:len(good)/2])
	require.Error(t, err, "truncated file")
	_, err = ReadONNX([]byte("not protobuf at all"))
	require.Error(t, err)
}
