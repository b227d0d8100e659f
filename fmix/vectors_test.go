package fmix

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// vectorFile is the layout of testdata/fmix-vectors.json: fields drawn and
// binarised by the published numpy code (see its "about").
type vectorFile struct {
	About string       `json:"about"`
	Cases []vectorCase `json:"cases"`
}

type vectorCase struct {
	Variant    string    `json:"variant"`
	Shape      []int     `json:"shape"`
	GridShape  []int     `json:"grid_shape"`
	DecayPower float64   `json:"decay_power"`
	Normals    []float64 `json:"normals"`
	Freqs      []float64 `json:"freqs"`
	LowFreq    []float64 `json:"low_freq"`
	Masks      []struct {
		Lam     float64   `json:"lam"`
		RoundUp bool      `json:"round_up"`
		MaxSoft float64   `json:"max_soft"`
		Mask    []float64 `json:"mask"`
	} `json:"masks"`
}

func loadVectors(t testing.TB, name string) []vectorCase {
	t.Helper()
	f := testutil.ReadJSON[vectorFile](t, filepath.Join("testdata", name))
	require.NotEmpty(t, f.Cases)
	return f.Cases
}

func caseName(i int, c vectorCase) string {
	return fmt.Sprintf("%02d_%s_%v_d%g", i, c.Variant, c.Shape, c.DecayPower)
}

// TestVectors checks the published cases (fmix-vectors.json, 28 fields)
// and our own (extra-vectors.json, from gen_vectors.py: shapes where
// irfftn crops or pads).
func TestVectors(t *testing.T) {
	for _, file := range []string{"fmix-vectors.json", "extra-vectors.json"} {
		t.Run(file, func(t *testing.T) { checkVectors(t, file) })
	}
}

func checkVectors(t *testing.T, file string) {
	cases := loadVectors(t, file)
	if file == "fmix-vectors.json" {
		require.Len(t, cases, 28)
	}
	for i, c := range cases {
		t.Run(caseName(i, c), func(t *testing.T) {
			v, err := ParseVariant(c.Variant)
			require.NoError(t, err)

			freqs, grid := FreqGrid(c.Shape)
			require.Equal(t, c.GridShape, grid)
			require.Len(t, freqs, len(c.Freqs))
			for j := range freqs {
				require.InDelta(t, c.Freqs[j], freqs[j], 1e-15, "freq %d", j)
			}

			low, err := LowFreqImage(c.Shape, c.DecayPower, c.Normals, v)
			require.NoError(t, err)
			require.Len(t, low, len(c.LowFreq))
			worst := 0.0
			for j := range low {
				worst = max(worst, abs(low[j]-c.LowFreq[j]))
			}
			assert.LessOrEqual(t, worst, 1e-9, "largest low-frequency difference")

			for _, m := range c.Masks {
				got := Binarise(c.LowFreq, m.Lam, m.RoundUp, m.MaxSoft)
				require.Equal(t, m.Mask, got, "lam %v roundUp %v maxSoft %v", m.Lam, m.RoundUp, m.MaxSoft)
				// Our own image ranks the same way: the masks agree too.
				mine := Binarise(low, m.Lam, m.RoundUp, m.MaxSoft)
				require.Equal(t, m.Mask, mine, "from our image: lam %v roundUp %v maxSoft %v", m.Lam, m.RoundUp, m.MaxSoft)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
