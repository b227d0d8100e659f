package zoo

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fmixzoo/zoo/engine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every architecture's ONNX export, run by the engine, gives the logits of
// the Gorgonia eval graph, at two batch sizes (the batch axis is dynamic).
func TestExportRoundTripsThroughEngine(t *testing.T) {
	for _, tc := range []struct {
		arch string
		args Args
	}{
		{"lenet", Args{}},
		{"preact_resnet18", Args{Width: 4}},
		{"pyramidnet", Args{Depth: 11, Alpha: 8}},
		{"wrn", Args{Depth: 10, Widen: 1}},
		{"densenet_bc", Args{Depth: 10, Growth: 4}},
		{"resnet18", Args{Width: 4, NumClasses: 10}},
		{"resnet34", Args{Width: 2, NumClasses: 5}},
		{"resnet50", Args{Width: 2, NumClasses: 6}},
		{"resnet101", Args{Width: 2, NumClasses: 7}},
		{"resnet152", Args{Width: 2, NumClasses: 8}},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			n, err := Build(tc.arch, tc.args)
			require.NoError(t, err)
			if strings.HasPrefix(tc.arch, "resnet") {
				n.input = []int{3, 64, 64}
			}
			rng := rand.New(rand.NewPCG(7, 8))
			// Train a few steps so BatchNorm statistics and weights are not trivial.
			x, targets := randomBatch(rng, n, 4)
			for i := 0; i < 3; i++ {
				_, err := n.TrainStep(x, 4, targets)
				require.NoError(t, err)
				for _, p := range n.Params() {
					for j, g := range p.Grad {
						p.Value[j] -= 0.01 * g
					}
				}
			}
			var buf bytes.Buffer
			require.NoError(t, n.ExportONNX(&buf, map[string]string{"dataset": "test"}))
			m, err := engine.Read(buf.Bytes())
			require.NoError(t, err)
			assert.Equal(t, "test", m.Metadata()["dataset"])
			assert.Equal(t, tc.arch, m.Metadata()[MetaArch])
			var args Args
			require.NoError(t, json.Unmarshal([]byte(m.Metadata()[MetaArgs]), &args))
			assert.Equal(t, n.Args(), args)
			for _, batch := range []int{1, 3} {
				xb := x[:batch*shapeSize(n.input)]
				want, err := n.Forward(xb, batch)
				require.NoError(t, err)
				out, err := m.Run(context.Background(), engine.Tensor{Shape: append([]int{batch}, n.input...), Data: xb})
				require.NoError(t, err)
				require.Len(t, out[0].Data, len(want))
				// Float32 rounding scales with the largest activations, so the
				// tolerance is relative to each row's largest logit: a deep net
				// in eval mode with barely trained BatchNorm statistics (resnet152
				// here) reaches logits of 1e4–1e5 where small ones cancel.
				k := n.Args().NumClasses
				for i := range want {
					rowMax := 1.0
					for _, v := range want[i/k*k : i/k*k+k] {
						rowMax = max(rowMax, abs32(v))
					}
					assert.InDelta(t, want[i], out[0].Data[i], 1e-5*rowMax, "batch %d logit %d", batch, i)
				}
			}
		})
	}
}

func abs32(v float32) float64 {
	if v < 0 {
		return float64(-v)
	}
	return float64(v)
}

// Import a PyTorch fixture, export it, run the export: PyTorch's logits.
func TestImportExportReproducesPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(fixtures, fx.LegacyPT))
			require.NoError(t, err)
			defer f.Close()
			st, err := f.Stat()
			require.NoError(t, err)
			n, err := ImportPT(fx.Arch, fx.Args, f, st.Size())
			require.NoError(t, err)
			n.input = fx.InputShape[1:]
			var buf bytes.Buffer
			require.NoError(t, n.ExportONNX(&buf, nil))
			m, err := engine.Read(buf.Bytes())
			require.NoError(t, err)
			out, err := m.Run(context.Background(), engine.Tensor{Shape: fx.InputShape, Data: readF32(t, fx.Input)})
			require.NoError(t, err)
			assertClose(t, readF32(t, fx.Logits), out[0].Data)
		})
	}
}
