package zoo

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/internal/torchpt"
)

// BatchNorm constants, as PyTorch's defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// StateDictError reports a state dict that does not fit the architecture, as
// PyTorch's load_state_dict(strict=True) does: every key by name.
type StateDictError struct {
	Arch       string
	Missing    []string // keys the architecture needs that the file lacks
	Unexpected []string // keys the file has that the architecture does not
	Mismatched []string // "key: file [a b] vs model [c d]"
}

func (e *StateDictError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("missing keys %s", quoteList(e.Missing)))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, fmt.Sprintf("unexpected keys %s", quoteList(e.Unexpected)))
	}
	if len(e.Mismatched) > 0 {
		parts = append(parts, fmt.Sprintf("size mismatch for %s", strings.Join(e.Mismatched, "; ")))
	}
	return fmt.Sprintf("zoo: state dict does not fit %s: %s", e.Arch, strings.Join(parts, "; "))
}

func quoteList(s []string) string {
	const max = 8
	q := make([]string, 0, max+1)
	for i, k := range s {
		if i == max {
			q = append(q, fmt.Sprintf("… (%d more)", len(s)-max))
			break
		}
		q = append(q, fmt.Sprintf("%q", k))
	}
	return strings.Join(q, ", ")
}

// LoadStateDict copies a PyTorch state dict into the network's parameters
// and buffers. Like load_state_dict(strict=True), every key must be present
// with the right shape and no other key may appear; otherwise nothing is
// changed and a *StateDictError names every problem. A missing
// num_batches_tracked is tolerated (old PyTorch versions did not save it).
func (n *Net) LoadStateDict(sd map[string]torchpt.Tensor) error {
	e := &StateDictError{Arch: n.arch}
	for _, name := range n.StateDictKeys() {
		p := n.byName[name]
		t, ok := sd[name]
		if !ok {
			if !strings.HasSuffix(name, ".num_batches_tracked") {
				e.Missing = append(e.Missing, name)
			}
			continue
		}
		if !slices.Equal(t.Shape, p.Shape) {
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: file %v vs model %v", name, t.Shape, p.Shape))
		} else if len(t.Data) != len(p.Value) {
			e.Mismatched = append(e.Mismatched, fmt.Sprintf("%s: file holds %d values for shape %v", name, len(t.Data), t.Shape))
		}
	}
	for name := range sd {
		if _, ok := n.byName[name]; !ok {
			e.Unexpected = append(e.Unexpected, name)
		}
	}
	sort.Strings(e.Unexpected)
	if len(e.Missing)+len(e.Unexpected)+len(e.Mismatched) > 0 {
		return e
	}
	for name, t := range sd {
		copy(n.byName[name].Value, t.Data)
	}
	n.invalidate()
	return nil
}

// ImportPT reads a PyTorch checkpoint (zip or legacy format; a plain state
// dict or one wrapped in 'state_dict' / 'model', 'module.' prefixes allowed)
// and returns the architecture with those weights. No Python code in the
// file is executed: anything beyond tensors and containers is refused.
func ImportPT(arch string, args Args, r io.ReaderAt, size int64) (*Net, error) {
	n, err := Build(arch, args)
	if err != nil {
		return nil, err
	}
	// The architecture bounds what the file may make us allocate: its
	// parameters and buffers, stored as float64 at most.
	var need int64
	for _, name := range n.StateDictKeys() {
		need += int64(len(n.byName[name].Value))
	}
	sd, err := torchpt.ReadLimited(r, size, torchpt.Limits{MaxElements: need, MaxStorageBytes: 8*need + 1<<20})
	if err != nil {
		return nil, fmt.Errorf("zoo: import %s: %w", arch, err)
	}
	if err := n.LoadStateDict(sd); err != nil {
		return nil, fmt.Errorf("zoo: import %s: %w", arch, err)
	}
	return n, nil
}
