package train

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// checkpointVersion changes whenever Checkpoint's layout does.
const checkpointVersion = 1

// ErrCheckpoint marks a checkpoint that cannot be read or does not match the
// run resuming from it.
var ErrCheckpoint = errors.New("checkpoint")

// NamedTensor is a named float32 tensor (a parameter or buffer, by its
// PyTorch state-dict key).
type NamedTensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Checkpoint is the state saved after every epoch: enough to resume the run
// bit for bit.
type Checkpoint struct {
	Version int
	// Fingerprint identifies the run's settings (arch, data, optimiser,
	// MSDA, seed); resuming under other settings is refused.
	Fingerprint string
	// Epoch is the number of completed epochs.
	Epoch    int
	Params   []NamedTensor
	Buffers  []NamedTensor
	Momentum [][]float32
	History  []EpochStats
	// Elapsed is the training wall time so far.
	Elapsed time.Duration
}

// SaveCheckpoint writes c to path atomically (a temporary file renamed into
// place), so an interrupted save leaves the previous checkpoint intact.
func SaveCheckpoint(path string, c *Checkpoint) error {
	c.Version = checkpointVersion
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("train: save checkpoint: %w", err)
	}
	err := atomicfile.WriteFunc(path, 0o644, func(w io.Writer) error { return gob.NewEncoder(w).Encode(c) })
	if err != nil {
		return fmt.Errorf("train: save checkpoint %s: %w", path, err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint.
func LoadCheckpoint(path string) (c *Checkpoint, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: load checkpoint: %w", err)
	}
	defer f.Close()
	defer func() { // gob is careful, but a checkpoint is outside input
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("train: load checkpoint %s: corrupt (%v): %w", path, r, ErrCheckpoint)
		}
	}()
	c = new(Checkpoint)
	if err := gob.NewDecoder(f).Decode(c); err != nil {
		return nil, fmt.Errorf("train: load checkpoint %s: %w: %w", path, ErrCheckpoint, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("train: load checkpoint %s: version %d, this build reads %d: %w", path, c.Version, checkpointVersion, ErrCheckpoint)
	}
	return c, nil
}

// restore copies saved tensors into live ones, matching by name and shape.
func restore(kind string, live []NamedTensor, saved []NamedTensor) error {
	if len(live) != len(saved) {
		return fmt.Errorf("train: checkpoint has %d %s, the model %d: %w", len(saved), kind, len(live), ErrCheckpoint)
	}
	for i, l := range live {
		s := saved[i]
		if s.Name != l.Name || len(s.Data) != len(l.Data) {
			return fmt.Errorf("train: checkpoint %s %d is %s (%d values), the model's is %s (%d values): %w",
				kind, i, s.Name, len(s.Data), l.Name, len(l.Data), ErrCheckpoint)
		}
		copy(l.Data, s.Data)
	}
	return nil
}
