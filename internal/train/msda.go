package train

import (
	"fmt"

	"github.com/fmixzoo/zoo/fmix"
	"github.com/fmixzoo/zoo/internal/data"
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

// mixer applies a run's MSDA to batches through package fmix. A fresh
// fmix.Mixer is seeded at the start of every epoch from the run's seed and
// the epoch number, so a resumed run mixes exactly as an uninterrupted one.
type mixer struct {
	opts    fmix.MixOptions
	seed    uint64
	m       *fmix.Mixer
	targets []float32
}

func newMixer(cfg MSDAConfig, shape [3]int, seed uint64) (*mixer, error) {
	mode, err := fmix.ParseMode(cfg.Mode)
	if err != nil {
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	variant := fmix.Official
	if cfg.Variant != "" {
		if variant, err = fmix.ParseVariant(cfg.Variant); err != nil {
			return nil, fmt.Errorf("train: msda: %w", err)
		}
	}
	opts := fmix.MixOptions{
		Options: fmix.Options{Alpha: cfg.Alpha, DecayPower: cfg.DecayPower, Shape: []int{shape[1], shape[2]},
			MaxSoft: cfg.MaxSoft, Reformulate: cfg.Reformulate, Variant: variant},
		Mode: mode,
	}
	mx := &mixer{opts: opts, seed: seed}
	if err := mx.startEpoch(0); err != nil { // validates the options now
		return nil, err
	}
	return mx, nil
}

// startEpoch reseeds the mixer for an epoch.
func (mx *mixer) startEpoch(epoch int) error {
	o := mx.opts
	o.Seed = mx.seed ^ (0x6d697865<<32 | uint64(epoch))
	m, err := fmix.NewMixer(o)
	if err != nil {
		return fmt.Errorf("train: msda: %w", err)
	}
	mx.m = m
	return nil
}

// mix mixes b.X in place and returns the soft targets (N × classes):
// λ·onehot(y) + (1-λ)·onehot(y[perm]), or onehot(y) when λ was
// reformulated (the published loss is then plain cross-entropy). The
// returned slice is reused by the next call.
func (mx *mixer) mix(b *data.Batch, classes int) ([]float32, error) {
	r, err := mx.m.Mix(b.X, b.X, b.N)
	if err != nil {
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	if cap(mx.targets) < b.N*classes {
		mx.targets = make([]float32, b.N*classes)
	}
	t := mx.targets[:b.N*classes]
	if err := fmix.SoftTargets(t, classes, b.Labels, r); err != nil {
		return nil, fmt.Errorf("train: msda: %w", err)
	}
	return t, nil
}
