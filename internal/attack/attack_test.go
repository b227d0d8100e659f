package attack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
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
	return testutil.ReadF32(t, filepath.Join(fixtures, name))
}

func loadFixtures(t *testing.T) []attackFixture {
	t.Helper()
	fxs := testutil.ReadJSON[[]attackFixture](t, filepath.Join(fixtures, "attacks.json"))
	require.NotEmpty(t, fxs)
	return fxs
}

func fixtureModel(t *testing.T, fx attackFixture, batch int) *NetModel {
	t.Helper()
	f, size := testutil.Open(t, filepath.Join(fixtures, fx.PT))
	args := fx.Args
	args.InputSize = fx.InputShape[2]
	net, err := zoo.ImportPT(fx.Arch, args, f, size)
	require.NoError(t, err)
	net.Freeze() // as hub.LoadNet's networks are
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

// A sweep gives the success counts of the attacks run one by one (the
// fixtures' flags): FGSM's and BIM's shared first gradient, DeepFool's one
// run clipped to each ε and the batching (3 + 1 rows) change nothing; ε = 0
// is the clean error (0: the labels are the model's predictions).
func TestSweepMatchesSingleAttacks(t *testing.T) {
	fx := loadFixtures(t)[0]
	require.Equal(t, "lenet", fx.Name)
	m := fixtureModel(t, fx, 3)
	x0 := readF32(t, fx.X)
	var calls int
	var last float64
	res, err := Sweep(context.Background(), m, x0, fx.Labels, SweepOptions{
		Attacks:  []string{NameFGSM, NameBIM, NameDeepFool},
		Epsilons: []float64{0, 0.01, 0.03},
		Batch:    3,
		Progress: func(done, total float64) {
			calls++
			assert.Greater(t, done, last)
			assert.LessOrEqual(t, done, total+1e-9)
			last = done
		},
	})
	require.NoError(t, err)
	require.Len(t, res, 9)
	assert.Positive(t, calls)
	want := map[string]int{}
	for _, c := range fx.Cases {
		for _, a := range c.Adversarial {
			if a {
				want[fmt.Sprintf("%s %g", c.Attack, c.Epsilon)]++
			}
		}
	}
	for _, r := range res {
		assert.Equal(t, len(fx.Labels), r.N)
		assert.Equal(t, want[fmt.Sprintf("%s %g", r.Attack, r.Epsilon)], r.Success, "%s ε=%g", r.Attack, r.Epsilon)
	}
}

// Bad inputs are errors, never panics.
func TestAttackErrors(t *testing.T) {
	fx := loadFixtures(t)[0]
	m := fixtureModel(t, fx, 4)
	x0 := readF32(t, fx.X)
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"short input", func() error { _, err := FGSM.Run(m, x0[:10], fx.Labels, 0.1, nil); return err }, "values for 4 labels"},
		{"label out of range", func() error { _, err := BIM.Run(m, x0, []int{0, 1, 2, 10}, 0.1, nil); return err }, "label 10 of row 3"},
		{"NaN ε", func() error { _, err := FGSM.Run(m, x0, fx.Labels, nan, nil); return err }, "not a finite non-negative"},
		{"negative ε", func() error { _, err := FGSM.Run(m, x0, fx.Labels, -1, nil); return err }, "not a finite non-negative"},
		{"PGD without start", func() error { _, err := PGD.Run(m, x0, fx.Labels, 0.1, nil); return err }, "random start has 0 values"},
		{"DeepFool 1 candidate", func() error { _, _, err := DeepFool{Steps: 5, Candidates: 1}.Run(m, x0, fx.Labels); return err }, "candidates 1"},
		{"noise batch", func() error { _, err := UniformNoise(rand.New(rand.NewPCG(1, 1)), x0, 5, 0.1); return err }, "batch of 5"},
		{"unknown attack", func() error { _, err := ParseAttacks("fgsm,cw"); return err }, `unknown attack "cw"`},
		{"sweep ε", func() error {
			_, err := Sweep(context.Background(), m, x0, fx.Labels, SweepOptions{Epsilons: []float64{math.Inf(1)}})
			return err
		}, "not a finite"},
		{"cancelled", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := Sweep(ctx, m, x0, fx.Labels, SweepOptions{Attacks: []string{NameFGSM}, Epsilons: []float64{0.1}})
			return err
		}, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Uniform noise is foolbox's: scaled so that its largest value is ε (the
// perturbation's maximum is ε before bound clipping), different per image
// and per stream, and reproducible from the seed.
func TestUniformNoise(t *testing.T) {
	const batch, per, eps = 3, 500, float32(0.05)
	x0 := make([]float32, batch*per)
	for i := range x0 {
		x0[i] = 0.5
	}
	a, err := UniformNoise(rand.New(rand.NewPCG(7, 1)), x0, batch, eps)
	require.NoError(t, err)
	b, err := UniformNoise(rand.New(rand.NewPCG(7, 1)), x0, batch, eps)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	for r := range batch {
		hi, lo := float32(-1), float32(1)
		for i := r * per; i < (r+1)*per; i++ {
			d := a[i] - 0.5
			hi, lo = max(hi, d), min(lo, d)
		}
		assert.InDelta(t, eps, hi, 1e-6, "row %d: max perturbation", r)
		assert.Less(t, lo, -0.9*eps, "row %d: min perturbation", r)
	}
	assert.NotEqual(t, a[:per], a[per:2*per])
	c := ClipPerturbation(x0, a, eps/2)
	assert.LessOrEqual(t, maxAbsDiff(x0, c), float64(eps/2)+1e-7)
}

// ReadCSV reads back what WriteCSV wrote and refuses malformed files;
// Merge replaces rows of the same model, attack and ε and keeps the rest.
func TestCSVRoundTrip(t *testing.T) {
	all := []ModelResults{
		{Model: "a", Results: []Result{{Attack: NameFGSM, Epsilon: 0, Success: 3, N: 10, Seconds: 1.5}, {Attack: NamePGD, Epsilon: 0.03, Success: 7, N: 10}}},
		{Model: "b", Results: []Result{{Attack: NameDeepFool, Epsilon: 1, Success: 10, N: 10, Seconds: 2}}},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, all))
	assert.True(t, strings.HasPrefix(buf.String(), "model,attack,epsilon,success_rate,success,n,seconds\na,fgsm,0,0.3,3,10,1.500\n"), buf.String())
	got, err := ReadCSV(&buf)
	require.NoError(t, err)
	assert.Equal(t, all, got)

	merged := Merge(all, []ModelResults{
		{Model: "a", Results: []Result{{Attack: NamePGD, Epsilon: 0.03, Success: 8, N: 10}, {Attack: NameFGSM, Epsilon: 0.1, Success: 9, N: 10}}},
		{Model: "b"},
		{Model: "c", Results: []Result{{Attack: NameBIM, Epsilon: 0.5, Success: 1, N: 1}}},
	})
	require.Len(t, merged, 3)
	assert.Equal(t, []Result{ // fgsm 0 kept, fgsm 0.1 added in ε order, pgd 0.03 replaced
		{Attack: NameFGSM, Epsilon: 0, Success: 3, N: 10, Seconds: 1.5},
		{Attack: NameFGSM, Epsilon: 0.1, Success: 9, N: 10},
		{Attack: NamePGD, Epsilon: 0.03, Success: 8, N: 10},
	}, merged[0].Results)
	assert.Equal(t, all[1], merged[1], "a model with no new results keeps its own")
	assert.Equal(t, "c", merged[2].Model)
	assert.Len(t, merged[2].Results, 1)
	assert.Equal(t, 7, all[0].Results[1].Success, "Merge leaves its input alone")

	head := strings.Join(CSVHeader, ",") + "\n"
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "EOF"},
		{"header", "model,attack\n", "wrong number of fields"},
		{"other header", "a,b,c,d,e,f,g\n", "header"},
		{"attack", head + "m,cw,0.1,0.5,1,2,0\n", "line 2"},
		{"success > n", head + "m,fgsm,0.1,1,3,2,0\n", "line 2"},
		{"n", head + "m,fgsm,0.1,0,0,0,0\n", "line 2"},
		{"eps", head + "m,fgsm,NaN,0,0,1,0\n", "line 2"},
		{"fields", head + "m,fgsm,0.1\n", "wrong number of fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.csv))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// PGD's random starts and the uniform noise come from the seed: the same
// seed gives the same counts, and the ε-ball bounds every result.
func TestSweepReproducible(t *testing.T) {
	fx := loadFixtures(t)[0]
	m := fixtureModel(t, fx, 4)
	x0 := readF32(t, fx.X)
	o := SweepOptions{Attacks: []string{NamePGD, NameUniform}, Epsilons: []float64{0.03, 0.3}, Seed: 5}
	a, err := Sweep(context.Background(), m, x0, fx.Labels, o)
	require.NoError(t, err)
	b, err := Sweep(context.Background(), m, x0, fx.Labels, o)
	require.NoError(t, err)
	require.Len(t, a, 4)
	for i := range a {
		assert.Equal(t, a[i].Success, b[i].Success, "%s ε=%g", a[i].Attack, a[i].Epsilon)
	}
	// PGD at ε = 0.3 fools this random-weight LeNet on every image.
	assert.Equal(t, 4, a[1].Success)

	// Batches attacked concurrently on replicas count what one model does,
	// for every attack; an attack's results reach AttackDone once, whole.
	o = SweepOptions{Epsilons: []float64{0, 0.01, 0.03, 0.3}, Seed: 5, Batch: 1}
	one, err := Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, o)
	require.NoError(t, err)
	var done [][]Result
	o.Replicas = []Model{fixtureModel(t, fx, 1), fixtureModel(t, fx, 1)}
	o.AttackDone = func(r []Result) error { done = append(done, r); return nil }
	par, err := Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, o)
	require.NoError(t, err)
	require.Len(t, par, len(one))
	for i := range one {
		assert.Equal(t, one[i].Success, par[i].Success, "%s ε=%g with replicas", one[i].Attack, one[i].Epsilon)
	}
	require.Len(t, done, len(AllAttacks))
	for i, r := range done {
		assert.Equal(t, par[i*4:(i+1)*4], r)
	}
	// An AttackDone error stops the sweep.
	o.AttackDone = func([]Result) error { return errors.New("disk full") }
	_, err = Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, o)
	assert.ErrorContains(t, err, "disk full")
}

// A sweep stopped part-way through an attack and resumed from what
// BatchDone reported attacks only the batches left and counts what one
// uninterrupted sweep does.
func TestSweepResume(t *testing.T) {
	fx := loadFixtures(t)[0]
	x0 := readF32(t, fx.X)
	nb := len(fx.Labels)
	o := SweepOptions{Epsilons: []float64{0, 0.01, 0.3}, Seed: 5, Batch: 1}
	whole, err := Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, o)
	require.NoError(t, err)

	// Stopped after PGD's second batch, as a killed process would be.
	var got []Result
	saved := map[string]Partial{}
	stop := errors.New("stopped")
	o.AttackDone = func(r []Result) error { got = append(got, r...); delete(saved, r[0].Attack); return nil }
	o.BatchDone = func(p Partial) error {
		saved[p.Attack] = p
		if p.Attack == NamePGD && len(p.Done) == 2 {
			return stop
		}
		return nil
	}
	_, err = Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, o)
	require.ErrorIs(t, err, stop)
	require.Len(t, got, len(o.Epsilons), "FGSM finished before the stop")
	require.Contains(t, saved, NamePGD)
	assert.Equal(t, []int{0, 1}, saved[NamePGD].Done)

	// Resumed with two replicas: PGD's first two batches are not attacked again.
	r := o
	r.Attacks = AllAttacks[1:]
	pgd := saved[NamePGD]
	r.Resume = []Partial{pgd}
	r.AttackDone = nil
	r.Replicas = []Model{fixtureModel(t, fx, 1)}
	calls := map[string]int{}
	r.BatchDone = func(p Partial) error { calls[p.Attack]++; return nil }
	rest, err := Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, r)
	require.NoError(t, err)
	assert.Equal(t, nb-2, calls[NamePGD])
	assert.Equal(t, nb, calls[NameBIM])
	got = append(got[:len(o.Epsilons)], rest...)
	require.Len(t, got, len(whole))
	for i := range whole {
		assert.Equal(t, whole[i].Success, got[i].Success, "%s ε=%g", whole[i].Attack, whole[i].Epsilon)
	}

	// A state from another sweep is refused.
	for name, edit := range map[string]func(*Partial){
		"seed":    func(p *Partial) { p.Seed++ },
		"epsilon": func(p *Partial) { p.Epsilons = []float64{0, 0.02, 0.3} },
		"batch":   func(p *Partial) { p.Done = []int{1, 0} },
		"range":   func(p *Partial) { p.Done = []int{nb} },
		"counts":  func(p *Partial) { p.Success = p.Success[:1] },
		"attack":  func(p *Partial) { p.Attack = NameFGSM },
	} {
		p := pgd
		p.Done = slices.Clone(p.Done)
		edit(&p)
		r.Resume = []Partial{p}
		_, err := Sweep(context.Background(), fixtureModel(t, fx, 1), x0, fx.Labels, r)
		assert.ErrorIs(t, err, ErrInput, name)
	}
}
