package engine

import (
	"context"
	"runtime"
	"testing"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDroppedInstanceIsCollected: an instance that leaves its pool (the
// pool full, or its plan evicted by other batch sizes) is garbage
// collected. Its steps must not refer back to it: the cycle would pass
// through Gorgonia's tape machine, whose finalizer makes the whole cycle
// uncollectable (zoo-serve grew by 35 KB a request).
func TestDroppedInstanceIsCollected(t *testing.T) {
	m, err := Read(reluChain(3))
	require.NoError(t, err)
	_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 4}, Data: []float32{-1, 2, -3, 4}})
	require.NoError(t, err)
	require.Len(t, m.plans, 1)
	var inst *instance
	for _, p := range m.plans {
		inst = <-p.pool
	}
	require.NotNil(t, inst.vm, "the instance has a tape machine")
	w := weak.Make(inst)
	inst = nil
	for range 4 {
		runtime.GC()
	}
	assert.Nil(t, w.Value(), "the dropped instance is still in memory")
}
