package engine

import (
	"errors"
	"fmt"
	"math"
)

// The default-domain (ai.onnx) operator set versions the engine runs. Every
// operator it implements has been checked against the ONNX changelog up to
// MaxOpset: later versions change nothing but element types, except Pad's
// optional axes input (opset 18), which is refused where given. A model
// declaring an opset outside the range is refused with an
// *UnsupportedOpError: its operators may mean something else.
const (
	MinOpset = 1
	MaxOpset = 22
)

// Bounds on what a model may make the engine do, whoever wrote it.
const (
	// maxValueSize bounds any one tensor of a plan (1 GiB of float32),
	// checked before the tensor or anything sized from it is allocated.
	maxValueSize = 1 << 28
	// maxNodes bounds a graph's nodes (a ResNet-152 has about 500).
	maxNodes = 1 << 15
	// maxSteps bounds a plan's runtime operations, what is left after
	// folding and fusion (the test zoo's ResNet-101: 108). Building a
	// plan's Gorgonia graph costs time quadratic in them, outside any
	// context: 8192 steps took 5.7 s, 32768 steps 45 s on this VM.
	maxSteps = 1 << 12
	// maxRank bounds any tensor's rank.
	maxRank = 64
	// maxWindow bounds kernel sizes, strides, dilations and pads.
	maxWindow = 1 << 24
	// maxFoldWork bounds the multiply-adds of one operation folded at
	// compile time (all its inputs constant): about a second of work.
	maxFoldWork = 1 << 32
)

// errTooLarge is wrapped by every size refusal.
var errTooLarge = errors.New("too large")

// checkedSize returns the number of elements of shape, or an error if a
// dimension is negative, the rank over maxRank, or the product (formed
// without overflow) over maxValueSize.
func checkedSize(shape []int) (int, error) {
	if len(shape) > maxRank {
		return 0, fmt.Errorf("%w: rank %d (at most %d)", errTooLarge, len(shape), maxRank)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d > 0 && n > maxValueSize/d {
			return 0, fmt.Errorf("%w: shape %v holds more than %d values", errTooLarge, shape, maxValueSize)
		}
		n *= d
	}
	if n > maxValueSize {
		return 0, fmt.Errorf("%w: shape %v holds more than %d values", errTooLarge, shape, maxValueSize)
	}
	return n, nil
}

// mulDims multiplies dimensions read from a model, refusing overflow of
// int (the caller then bounds the result with checkedSize).
func mulDims(a, b int) (int, error) {
	if a < 0 || b < 0 {
		return 0, fmt.Errorf("negative dimension in %d×%d", a, b)
	}
	if b != 0 && a > math.MaxInt/b {
		return 0, fmt.Errorf("%w: %d×%d overflows", errTooLarge, a, b)
	}
	return a * b, nil
}

// checkFold refuses to fold an operation on constants that would take
// more than maxFoldWork multiply-adds (work, estimated in float64 so that
// it cannot overflow): compilation holds the model's lock and checks its
// context only between nodes. Operations with a runtime input are not
// limited here: their cost is paid per Run, which checks its context
// between steps.
func (c *opCtx) checkFold(in []*value, work float64) error {
	for _, v := range in {
		if v != nil && !v.konst {
			return nil
		}
	}
	if work > maxFoldWork {
		return fmt.Errorf("%w: folding this operation on constants takes %.3g multiply-adds (at most %d)", errTooLarge, work, maxFoldWork)
	}
	return nil
}
