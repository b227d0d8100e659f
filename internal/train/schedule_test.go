package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchedule(t *testing.T) {
	ms := Schedule{Base: 0.1, Kind: "multistep", Milestones: []int{100, 150}, Gamma: 0.1, Epochs: 200}
	require.NoError(t, ms.Validate())
	tests := []struct {
		s     Schedule
		epoch int
		step  int
		want  float64
	}{
		{ms, 0, 0, 0.1},
		{ms, 99, 0, 0.1},
		{ms, 100, 0, 0.01},
		{ms, 199, 0, 0.001},
		{Schedule{Base: 0.1, Kind: "cosine", Epochs: 10}, 0, 0, 0.1},
		{Schedule{Base: 0.1, Kind: "cosine", Epochs: 10}, 5, 0, 0.05},
		{Schedule{Base: 0.1, Kind: "multistep", Epochs: 10, Warmup: 5}, 0, 0, 0.1 / 50},
		{Schedule{Base: 0.1, Kind: "multistep", Epochs: 10, Warmup: 5}, 4, 9, 0.1},
		{Schedule{Base: 0.1, Kind: "multistep", Epochs: 10, Warmup: 5}, 2, 4, 0.1 * 25 / 50},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, tt.s.LR(tt.epoch, tt.step, 10), 1e-12, "%+v epoch %d step %d", tt.s, tt.epoch, tt.step)
	}
	m, err := ParseMilestones("100, 150")
	require.NoError(t, err)
	assert.Equal(t, []int{100, 150}, m)
	for _, bad := range []string{"150,100", "x", "-3"} {
		_, err := ParseMilestones(bad)
		assert.Error(t, err, bad)
	}
	assert.Error(t, Schedule{Base: 0.1, Kind: "step", Epochs: 1}.Validate())
}
