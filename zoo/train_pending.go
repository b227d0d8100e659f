package zoo

import "errors"

// trainer holds the Gorgonia training graph of a Net.
type trainer struct{}

// errNoTraining is returned until the Gorgonia training graph lands.
var errNoTraining = errors.New("zoo: training graph not built yet")

// invalidate drops compiled state after parameters change outside training.
func (n *Net) invalidate() {}

// TrainStep runs one training step; see docs/DESIGN.md.
func (n *Net) TrainStep(x []float32, batch int, targets []float32) (float32, error) {
	return 0, errNoTraining
}

// Forward evaluates the network in eval mode and returns batch × classes logits.
func (n *Net) Forward(x []float32, batch int) ([]float32, error) {
	return nil, errNoTraining
}
