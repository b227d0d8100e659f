package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/fmixzoo/zoo/fmix"
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

// mixer applies a run's MSDA to batches through fmix.Mixer.
type mixer struct {
	opts fmix.MixOptions
	fm   *fmix.Mixer
	rng  *rand.Rand // the generator fm was seeded from
}

func newMixer(cfg MSDAConfig, shape [3]int) (*mixer, error) {
	mode, err := fmix.ParseMode(cfg.Mode)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	variant, err := fmix.ParseVariant(cfg.Variant)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	o := fmix.MixOptions{Mode: mode, Options: fmix.Options{
		Alpha: cfg.Alpha, DecayPower: cfg.DecayPower, Shape: []int{shape[1], shape[2]},
		MaxSoft: cfg.MaxSoft, Reformulate: cfg.Reformulate, Variant: variant,
	}}
	if o.Alpha == 0 {
		o.Alpha = 1
	}
	if o.DecayPower == 0 {
		o.DecayPower = 3
	}
	if _, err := fmix.NewMixer(o); err != nil { // validate now, not at the first batch
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	return &mixer{opts: o}, nil
}

// mix mixes b.X in place and returns the soft targets (N × classes):
// λ·onehot(y) + (1-λ)·onehot(y[perm]). Each epoch's generator seeds a fresh
// fmix.Mixer, so a run resumed at an epoch boundary mixes exactly as the
// uninterrupted one (FMix+MixUp alternation restarts with FMix each epoch).
func (m *mixer) mix(b *Batch, classes int, rng *rand.Rand) ([]float32, error) {
	if m.opts.Mode == fmix.ModeNone {
		return softTargets(b.Labels, nil, 1, classes)
	}
	if m.fm == nil || m.rng != rng {
		o := m.opts
		o.Seed = rng.Uint64()
		fm, err := fmix.NewMixer(o)
		if err != nil {
			return nil, fmt.Errorf("train: msda: %w", err)
		}
		m.fm, m.rng = fm, rng
	}
	r, err := m.fm.Mix(b.X, b.X, b.N)
	if err != nil {
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	t := make([]float32, b.N*classes)
	if err := fmix.SoftTargets(t, classes, b.Labels, r); err != nil {
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	return t, nil
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
