package torchpt

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the decoder without Read's panic guard:
// any panic is a bug. Accepted inputs must be self-consistent.
func FuzzRead(f *testing.F) {
	for _, name := range []string{
		"dtypes.pt", "dtypes.legacy.pt", "fault_missing_key.pt",
		"fault_not_state_dict.pt", "fault_not_state_dict.legacy.pt",
		"fault_nested_pickle.pt", "fault_bare_pickle.pt",
	} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(stateDictPickle(func(p *pk) { p.tensor(4, 1, []int32{3}, []int32{1}) }))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := read(bytes.NewReader(b), int64(len(b)), Limits{})
		if err != nil {
			if m != nil {
				t.Fatal("map returned with an error")
			}
			return
		}
		for k, v := range m {
			if len(v.Data) != numel(v.Shape) {
				t.Fatalf("%s: %d values for shape %v", k, len(v.Data), v.Shape)
			}
		}
	})
}
