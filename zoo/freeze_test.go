package zoo

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// A frozen network computes what the live one does, keeps its packed
// weights until thawed or frozen again, and thaws on TrainStep.
func TestFreeze(t *testing.T) {
	n, err := Build("preact_resnet18", Args{Width: 4, InputSize: 16})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 5))
	randomizeBN(n, rng)
	const batch = 2
	x := randSlice(rng, batch*3*16*16)
	live, err := n.Forward(x, batch)
	require.NoError(t, err)
	liveCAM, err := n.GradCAM(x, batch, CAMOptions{})
	require.NoError(t, err)

	n.Freeze()
	require.True(t, n.frozen)
	frozen, err := n.Forward(x, batch)
	require.NoError(t, err)
	testutil.AssertLogits(t, live, frozen)
	frozenCAM, err := n.GradCAM(x, batch, CAMOptions{})
	require.NoError(t, err)
	for i := range liveCAM {
		assert.InDeltaSlice(t, liveCAM[i].Map, frozenCAM[i].Map, 1e-5)
	}
	frozenGrad, err := n.Gradients(x, batch, GradOptions{Classes: []int{1, 2}, Input: true})
	require.NoError(t, err)
	n.Thaw()
	liveGrad, err := n.Gradients(x, batch, GradOptions{Classes: []int{1, 2}, Input: true})
	require.NoError(t, err)
	assertMapsClose(t, liveGrad.Input, frozenGrad.Input, 1e-5, "input gradient, frozen (packed transposed filters) vs live")
	n.Freeze()
	_, err = n.Forward(x, batch) // packs (on first use)
	require.NoError(t, err)

	// A direct write is not seen until Freeze repacks.
	w, _ := n.Param("conv1.weight")
	for i := range w.Value {
		w.Value[i] *= 2
	}
	stale, err := n.Forward(x, batch)
	require.NoError(t, err)
	testutil.AssertLogits(t, frozen, stale)
	n.Freeze()
	fresh, err := n.Forward(x, batch)
	require.NoError(t, err)
	n.Thaw()
	want, err := n.Forward(x, batch)
	require.NoError(t, err)
	testutil.AssertLogits(t, want, fresh)
	assert.NotEqual(t, frozen, fresh)

	n.Freeze()
	targets := make([]float32, batch*10)
	targets[0], targets[10+3] = 1, 1
	_, err = n.TrainStep(x, batch, targets)
	require.NoError(t, err)
	assert.False(t, n.frozen, "TrainStep thaws")
}
