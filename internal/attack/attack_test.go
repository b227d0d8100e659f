package attack

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/zoo"
)

const fixtures = "../../testdata/torch"

// attackFixture is one entry of testdata/torch/attacks.json (gen_attacks.py).
type attackFixture struct {
	Name       string    `json:"name"`
	Arch       string    `json:"arch"`
	Args       zoo.Args  `json:"args"`
	PT         string    `json:"pt"`
	Mean       []float64 `json:"mean"`
	Std        []float64 `json:"std"`
	InputShape []int     `json:"input_shape"`
	Labels     []int     `json:"labels"`
	X          string    `json:"x"`
	DeepFool   struct {
		File       string `json:"file"`
		StepsTaken int    `json:"steps_taken"`
	} `json:"deepfool"`
	Cases []struct {
		Attack      string  `json:"attack"`
		Epsilon     float64 `json:"epsilon"`
		File        string  `json:"file"`
		Start       string  `json:"start"`
		Adversarial []bool  `json:"adversarial"`
	} `json:"cases"`
}

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	require.NoError(t, err)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func loadFixtures(t *testing.T) []attackFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, "attacks.json"))
	require.NoError(t, err)
	var fxs []attackFixture
	require.NoError(t, json.Unmarshal(b, &fxs))
	require.NotEmpty(t, fxs)
	return fxs
}

func fixtureModel(t *testing.T, fx attackFixture, batch int) *NetModel {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, fx.PT))
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	args := fx.Args
	args.InputSize = fx.InputShape[2]
	net, err := zoo.ImportPT(fx.Arch, args, f, st.Size())
	require.NoError(t, err)
	m, err := NewNetModel(net, fx.Mean, fx.Std, batch)
	require.NoError(t, err)
	return m
}

func maxAbsDiff(a, b []float32) float64 {
	var worst float64
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i]-b[i])))
	}
	return worst
}

// FGSM, BIM, PGD (from the fixture's random start) and DeepFool produce
// the adversarial images of a plain-PyTorch re-implementation of foolbox 3
// (gen_attacks.py) within 1e-5, and the same success flags. The model runs
// in chunks of 2 rows, so padding and chunking are covered too.
func TestAttacksMatchPyTorch(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			m := fixtureModel(t, fx, 2)
			x0 := readF32(t, fx.X)
			require.Len(t, x0, len(fx.Labels)*m.Size())
			df, steps, err := DefaultDeepFool.Run(m, x0, fx.Labels)
			require.NoError(t, err)
			assert.Equal(t, fx.DeepFool.StepsTaken, steps, "DeepFool steps")
			d := maxAbsDiff(readF32(t, fx.DeepFool.File), df)
			assert.LessOrEqual(t, d, 1e-5, "deepfool")
			t.Logf("deepfool (%d steps): max |Δ| %.3g", steps, d)
			for _, c := range fx.Cases {
				eps := float32(c.Epsilon)
				var xp []float32
				switch c.Attack {
				case "fgsm":
					xp, err = FGSM.Run(m, x0, fx.Labels, eps, nil)
				case "bim":
					xp, err = BIM.Run(m, x0, fx.Labels, eps, nil)
				case "pgd":
					xp, err = PGD.Run(m, x0, fx.Labels, eps, readF32(t, c.Start))
				case "deepfool":
					xp = df
				default:
					t.Fatalf("unknown attack %q", c.Attack)
				}
				require.NoError(t, err, c.Attack)
				adv := ClipPerturbation(x0, xp, eps)
				d := maxAbsDiff(readF32(t, c.File), adv)
				assert.LessOrEqual(t, d, 1e-5, "%s ε=%g", c.Attack, c.Epsilon)
				assert.LessOrEqual(t, maxAbsDiff(x0, adv), c.Epsilon+1e-6, "%s ε=%g: outside the ε-ball", c.Attack, c.Epsilon)
				got, err := Misclassified(m, adv, fx.Labels)
				require.NoError(t, err)
				assert.Equal(t, c.Adversarial, got, "%s ε=%g: success flags", c.Attack, c.Epsilon)
				t.Logf("%-8s ε=%-5g max |Δ| %.3g adversarial %v", c.Attack, c.Epsilon, d, got)
			}
		})
	}
}
