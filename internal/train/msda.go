package train

import (
	"fmt"
	"math/rand/v2"
)

// MSDAConfig selects the mixed-sample data augmentation of a run.
type MSDAConfig struct {
	// Mode is none, mixup, cutmix, fmix or fmixplusmixup.
	Mode string `json:"mode"`
	// Alpha parameterises the Beta distribution of the mixing coefficient λ.
	Alpha float64 `json:"alpha"`
	// DecayPower is FMix's frequency decay δ.
	DecayPower float64 `json:"decay_power"`
	// Reformulate draws λ from Beta(α+1, α) (FMix's reformulation).
	Reformulate bool `json:"reformulate,omitempty"`
	// MaxSoft softens FMix mask edges.
	MaxSoft float64 `json:"max_soft,omitempty"`
	// Variant is FMix's spectrum: official or isotropic.
	Variant string `json:"variant"`
}

// mixer applies a run's MSDA to batches.
type mixer struct {
	cfg   MSDAConfig
	shape [3]int
}

func newMixer(cfg MSDAConfig, shape [3]int) (*mixer, error) {
	switch cfg.Mode {
	case "", "none":
	default:
		return nil, fmt.Errorf("train: msda %q not available yet", cfg.Mode)
	}
	return &mixer{cfg: cfg, shape: shape}, nil
}

// mix mixes b.X in place and returns the soft targets (N × classes):
// λ·onehot(y) + (1-λ)·onehot(y[perm]).
func (m *mixer) mix(b *Batch, classes int, rng *rand.Rand) ([]float32, error) {
	return softTargets(b.Labels, nil, 1, classes)
}

// softTargets builds λ·onehot(y) + (1-λ)·onehot(y[perm]) (perm nil: λ = 1).
func softTargets(labels, perm []int, lam float64, classes int) ([]float32, error) {
	t := make([]float32, len(labels)*classes)
	for i, y := range labels {
		if y < 0 || y >= classes {
			return nil, fmt.Errorf("train: label %d outside %d classes", y, classes)
		}
		if perm == nil {
			t[i*classes+y] = 1
			continue
		}
		t[i*classes+y] += float32(lam)
		t[i*classes+labels[perm[i]]] += float32(1 - lam)
	}
	return t, nil
}
