package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTally(t *testing.T) {
	var ta tally
	logits := []float32{
		0, 5, 1, 2, 3, 4, // label 1: top-1
		5, 4, 3, 2, 1, 0, // label 4: rank 4 → top-5
		5, 4, 3, 2, 1, 0, // label 5: rank 5 → miss
		1, 1, 1, 1, 1, 1, // label 2: ties, rank 2
	}
	require.NoError(t, ta.add(logits, []int{1, 4, 5, 2}, 6))
	r := ta.result()
	assert.Equal(t, 25.0, r.Top1)
	assert.Equal(t, 75.0, r.Top5)
	assert.Equal(t, 4, r.Images)
	assert.Error(t, ta.add(logits, []int{1}, 6))
	assert.Error(t, ta.add(logits[:6], []int{9}, 6))
}
