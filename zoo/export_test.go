package zoo

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fmixzoo/zoo/engine"
	"github.com/fmixzoo/zoo/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every architecture's ONNX export, run by the engine, gives the logits of
// the Gorgonia eval graph, at two batch sizes (the batch axis is dynamic).
func TestExportRoundTripsThroughEngine(t *testing.T) {
	for _, tc := range smallNets {
		t.Run(tc.arch, func(t *testing.T) {
			n := tc.build(t)
			if strings.HasPrefix(tc.arch, "resnet") {
				n.input = []int{3, 64, 64} // twice the arguments' size: H×W is dynamic
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
			n := importFixture(t, fx, fx.LegacyPT)
			var buf bytes.Buffer
			require.NoError(t, n.ExportONNX(&buf, nil))
			m, err := engine.Read(buf.Bytes())
			require.NoError(t, err)
			out, err := m.Run(context.Background(), engine.Tensor{Shape: fx.InputShape, Data: readF32(t, fx.Input)})
			require.NoError(t, err)
			testutil.AssertLogits(t, readF32(t, fx.Logits), out[0].Data)
		})
	}
}
