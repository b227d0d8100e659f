package zoo

import "github.com/fmixzoo/zoo/kernels"

// Freeze declares that the network's parameters will not change: eval-mode
// passes (Forward, Gradients, GradCAM) then pack each convolution's weights
// for the kernels once, on first use, instead of on every call (at batch 1
// packing, mostly the Winograd filter transforms, is most of a
// PreAct-ResNet18 forward pass). The packed copies take about three times
// the convolution weights' memory. TrainStep, LoadStateDict and Init thaw
// the network; after writing Param.Value directly, call Freeze again (it
// repacks) or Thaw. ReadONNX returns frozen networks.
func (n *Net) Freeze() {
	n.frozen = true
	n.packed = map[string]*kernels.PackedConv{}
}

// Thaw undoes Freeze: eval-mode passes read the live weights again.
func (n *Net) Thaw() {
	n.frozen = false
	n.packed = nil
}

// Frozen reports whether the network is frozen (see Freeze).
func (n *Net) Frozen() bool { return n.frozen }

// packedConv returns the frozen network's packed convolution of a layer,
// packing it on first use.
func (n *Net) packedConv(name string, p kernels.ConvParams, w []float32) *kernels.PackedConv {
	pc, ok := n.packed[name]
	if !ok {
		pc = kernels.NewPackedConv(p, w)
		n.packed[name] = pc
	}
	return pc
}
