package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate at a point of training.
type Schedule struct {
	// Base is the peak learning rate (the published 0.1).
	Base float64
	// Kind is "multistep" or "cosine".
	Kind string
	// Milestones are the epochs at which multistep multiplies the rate by
	// Gamma (the published 100, 150 with gamma 0.1).
	Milestones []int
	Gamma      float64
	// Epochs is the length of training (cosine anneals to 0 over it).
	Epochs int
	// Warmup ramps the rate linearly, step by step, from nearly 0 to the
	// schedule's rate over the first Warmup epochs (0: none; the published
	// option uses 5).
	Warmup int
}

// ParseMilestones parses "100,150".
func ParseMilestones(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("train: schedule milestone %q, want a positive epoch number", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("train: schedule milestones %q must increase", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Validate reports a schedule that cannot be used.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "multistep", "cosine":
	default:
		return fmt.Errorf("train: schedule %q, want multistep or cosine", s.Kind)
	}
	if !(s.Base > 0) || s.Epochs <= 0 || s.Warmup < 0 {
		return fmt.Errorf("train: schedule needs lr > 0, epochs > 0, warmup ≥ 0 (got %v, %d, %d)", s.Base, s.Epochs, s.Warmup)
	}
	return nil
}

// LR is the learning rate for step (0-based) of epoch (0-based), with
// stepsPerEpoch steps an epoch. Schedules change per epoch as in the
// published trainer; warmup changes per step.
func (s Schedule) LR(epoch, step, stepsPerEpoch int) float64 {
	lr := s.Base
	switch s.Kind {
	case "cosine":
		lr = s.Base * 0.5 * (1 + math.Cos(math.Pi*float64(epoch)/float64(s.Epochs)))
	default:
		for _, m := range s.Milestones {
			if epoch >= m {
				lr *= s.Gamma
			}
		}
	}
	if epoch < s.Warmup && stepsPerEpoch > 0 {
		done := float64(epoch*stepsPerEpoch+step+1) / float64(s.Warmup*stepsPerEpoch)
		lr *= done
	}
	return lr
}
