package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSGDMatchesPyTorch(t *testing.T) {
	// Two steps of torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
	// on w = [1, -2] with grads [0.5, 0.5] then [-1, 2], by hand:
	// step 1: d = [0.51, 0.48]; buf = d; w = [0.949, -2.048]
	// step 2: d = [-1+0.00949, 2-0.02048] = [-0.99051, 1.97952]
	//         buf = 0.9·[0.51,0.48] + d = [-0.53151, 2.41152]; w = [1.002151, -2.289152]
	o := &SGD{Momentum: 0.9, WeightDecay: 0.01}
	w := []float32{1, -2}
	require.NoError(t, o.Step(0.1, [][]float32{w}, [][]float32{{0.5, 0.5}}))
	assert.InDeltaSlice(t, []float32{0.949, -2.048}, w, 1e-6)
	require.NoError(t, o.Step(0.1, [][]float32{w}, [][]float32{{-1, 2}}))
	assert.InDeltaSlice(t, []float32{1.002151, -2.289152}, w, 1e-5)
	assert.Error(t, o.Step(0.1, [][]float32{w, w}, [][]float32{{1, 1}, {1, 1}}))
	assert.Error(t, o.Step(0.1, [][]float32{w}, [][]float32{{1}}))
}
