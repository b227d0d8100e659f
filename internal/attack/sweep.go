package attack

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Names of the attacks a sweep runs, in the seed's order.
const (
	NameFGSM     = "fgsm"
	NamePGD      = "pgd"
	NameBIM      = "bim"
	NameUniform  = "uniform"
	NameDeepFool = "deepfool"
)

// AllAttacks lists every attack name in the seed's order.
var AllAttacks = []string{NameFGSM, NamePGD, NameBIM, NameUniform, NameDeepFool}

// SeedEpsilons is the seed's ε list (analysis/adversarial_linf.py).
var SeedEpsilons = []float64{0, 5e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.02, 0.03, 0.1, 0.3, 0.5, 1.0}

// ParseAttacks checks a comma-separated attack list ("" or "all" for every
// attack).
func ParseAttacks(s string) ([]string, error) {
	if s == "" || s == "all" {
		return slices.Clone(AllAttacks), nil
	}
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.ToLower(strings.TrimSpace(a))
		if !slices.Contains(AllAttacks, a) {
			return nil, fmt.Errorf("%w: unknown attack %q (want %s)", ErrInput, a, strings.Join(AllAttacks, ", "))
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Result is the success of one attack at one ε over a sweep's samples.
type Result struct {
	Attack  string
	Epsilon float64
	// Success counts the samples misclassified after the attack (already
	// misclassified ones included) out of N.
	Success int
	N       int
	// Seconds is the time the attack spent at this ε. Work done once for
	// every ε (DeepFool's run, FGSM's and BIM's first gradient) is shared
	// equally among them.
	Seconds float64
}

// Rate is Success / N.
func (r Result) Rate() float64 { return float64(r.Success) / float64(max(r.N, 1)) }

// SweepOptions configure Sweep.
type SweepOptions struct {
	Attacks  []string  // default AllAttacks
	Epsilons []float64 // default SeedEpsilons
	// Batch is how many samples are attacked together (default 64).
	Batch int
	// Seed makes PGD's random starts and the uniform noise reproducible:
	// each (attack, ε, batch) draws from its own stream.
	Seed uint64
	// Progress, when not nil, is called after each piece of work with the
	// work done and the total, in gradient evaluations per sample.
	Progress func(done, total float64)
	// Replicas are further copies of the model (the same weights) that
	// attack batches concurrently with it, one goroutine each; the results
	// do not depend on how many there are (each batch draws from its own
	// streams).
	Replicas []Model
	// AttackDone, when not nil, is called when an attack has finished
	// every ε, with its results (a long sweep saves them as it goes; an
	// error stops the sweep).
	AttackDone func([]Result) error
	// BatchDone, when not nil, is called after each batch with its
	// attack's state so far (an error stops the sweep). A sweep that saves
	// it and is stopped part-way through a long attack loses only the
	// batches in flight: Resume takes the state back.
	BatchDone func(Partial) error
	// Resume holds attacks an earlier sweep reported through BatchDone
	// and did not finish: their finished batches are counted as they were
	// and not attacked again. Each must be of this sweep (one of its
	// attacks, its ε list, sample count, batch size and seed).
	Resume []Partial
}

// Partial is an attack run on some of a sweep's batches.
type Partial struct {
	Attack   string    `json:"attack"`
	Epsilons []float64 `json:"epsilons"`
	N        int       `json:"n"`
	Batch    int       `json:"batch"`
	Seed     uint64    `json:"seed"`
	// Done lists the finished batches in ascending order; Success and
	// Seconds are their sums at each ε.
	Done    []int     `json:"done"`
	Success []int     `json:"success"`
	Seconds []float64 `json:"seconds"`
}

// resumed returns o.Resume's state of attack a (nil when it has none) after
// checking it belongs to this sweep of n samples in nb batches.
func (o *SweepOptions) resumed(a string, n, nb int) (*Partial, error) {
	i := slices.IndexFunc(o.Resume, func(p Partial) bool { return p.Attack == a })
	if i < 0 {
		return nil, nil
	}
	p := &o.Resume[i]
	switch {
	case !slices.Equal(p.Epsilons, o.Epsilons) || p.N != n || p.Batch != o.Batch || p.Seed != o.Seed:
		return nil, fmt.Errorf("%w: resumed %s ran at ε %v on %d samples in batches of %d with seed %d, not this sweep's %v, %d, %d, %d",
			ErrInput, a, p.Epsilons, p.N, p.Batch, p.Seed, o.Epsilons, n, o.Batch, o.Seed)
	case len(p.Success) != len(o.Epsilons) || len(p.Seconds) != len(o.Epsilons):
		return nil, fmt.Errorf("%w: resumed %s has %d counts and %d times for %d ε", ErrInput, a, len(p.Success), len(p.Seconds), len(o.Epsilons))
	}
	for j, b := range p.Done {
		if b < 0 || b >= nb || j > 0 && b <= p.Done[j-1] {
			return nil, fmt.Errorf("%w: resumed %s lists batch %d out of order or outside [0, %d)", ErrInput, a, b, nb)
		}
	}
	for ei, s := range p.Success {
		if s < 0 || s > n || !(p.Seconds[ei] >= 0) {
			return nil, fmt.Errorf("%w: resumed %s has count %d and time %g at ε=%g", ErrInput, a, s, p.Seconds[ei], o.Epsilons[ei])
		}
	}
	return p, nil
}

// stream is the random stream of an attack at ε for one batch: keyed by
// the attack's place in AllAttacks and ε's in SeedEpsilons (other ε by
// their bits), so a sweep run in pieces (some attacks, some ε) draws what
// the whole sweep would.
func stream(seed uint64, attack string, eps float64, batch int) *rand.Rand {
	a := uint64(slices.Index(AllAttacks, attack))
	e := uint64(slices.Index(SeedEpsilons, eps))
	if e == math.MaxUint64 { // not one of the seed's
		b := math.Float64bits(eps)
		e = 1<<15 | (b^b>>16^b>>32^b>>48)&(1<<15-1)
	}
	return rand.New(rand.NewPCG(seed, a<<48|e<<32|uint64(batch)))
}

// cost is an attack's work per sample and ε, in gradient evaluations (a
// forward pass counts as one); DeepFool's is a guess (it stops early).
func cost(attack string) float64 {
	switch attack {
	case NameFGSM:
		return 1
	case NamePGD:
		return float64(PGD.Steps + 1)
	case NameBIM:
		return float64(BIM.Steps)
	case NameDeepFool:
		return 3
	}
	return 1
}

// Sweep attacks the samples x (n × Size pixels in [0, 1]) with labels by
// every attack at every ε and returns one Result per (attack, ε), in order.
// ε = 0 leaves every attack's input unchanged (FGSM, BIM and PGD step by
// 0·ε, the noise is scaled to 0), so its success is the clean error rate,
// measured once. The loss gradient at the clean input, FGSM's only step and
// BIM's first, is computed once per batch for every ε; DeepFool runs once
// per batch and is clipped to each ε (as foolbox does). Results are the same
// as running each attack on its own.
//
// Samples are attacked o.Batch at a time; the cost is dominated by PGD's
// 40 gradients per sample and ε.
func Sweep(ctx context.Context, m Model, x []float32, labels []int, o SweepOptions) ([]Result, error) {
	n, err := checkBatch(m, x, labels)
	if err != nil {
		return nil, err
	}
	if o.Attacks == nil {
		o.Attacks = AllAttacks
	}
	if o.Epsilons == nil {
		o.Epsilons = SeedEpsilons
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	for _, e := range o.Epsilons {
		if err := checkEpsilon(float32(e)); err != nil {
			return nil, err
		}
	}
	for _, a := range o.Attacks {
		if !slices.Contains(AllAttacks, a) {
			return nil, fmt.Errorf("%w: unknown attack %q", ErrInput, a)
		}
	}
	for _, p := range o.Resume {
		if !slices.Contains(o.Attacks, p.Attack) {
			return nil, fmt.Errorf("%w: resumed attack %q is not in this sweep", ErrInput, p.Attack)
		}
	}
	nb := (n + o.Batch - 1) / o.Batch
	resume := make([]*Partial, len(o.Attacks))
	for ai, a := range o.Attacks {
		if resume[ai], err = o.resumed(a, n, nb); err != nil {
			return nil, err
		}
	}
	per := m.Size()
	var total, done float64
	for _, a := range o.Attacks {
		total += cost(a) * float64(len(o.Epsilons)) * float64(n)
	}
	report := func(work float64) {
		done += work
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	res := make([]Result, 0, len(o.Attacks)*len(o.Epsilons))
	for _, a := range o.Attacks {
		for _, e := range o.Epsilons {
			res = append(res, Result{Attack: a, Epsilon: e, N: n})
		}
	}
	// The clean misclassification of each batch, for ε = 0.
	clean := make([]bool, 0, n)
	for lo := 0; lo < n; lo += o.Batch {
		hi := min(lo+o.Batch, n)
		mis, err := Misclassified(m, x[lo*per:hi*per], labels[lo:hi])
		if err != nil {
			return nil, err
		}
		clean = append(clean, mis...)
	}
	models := append([]Model{m}, o.Replicas...)
	var mu sync.Mutex // guards res and report
	for ai, a := range o.Attacks {
		row := res[ai*len(o.Epsilons) : (ai+1)*len(o.Epsilons)]
		var finished []int // batches done, ascending, under mu
		if p := resume[ai]; p != nil {
			finished = slices.Clone(p.Done)
			for ei := range row {
				row[ei].Success, row[ei].Seconds = p.Success[ei], p.Seconds[ei]
			}
			for _, b := range p.Done {
				report(cost(a) * float64(min(b*o.Batch+o.Batch, n)-b*o.Batch) * float64(len(row)))
			}
		}
		next := 0 // the next batch to consider, under mu
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var firstErr error
		for _, wm := range models[:min(len(models), nb)] {
			wg.Go(func() {
				for {
					mu.Lock()
					for next < nb && isDone(finished, next) {
						next++
					}
					bi := next
					next++
					mu.Unlock()
					if bi >= nb {
						return
					}
					lo := bi * o.Batch
					hi := min(lo+o.Batch, n)
					succ, secs, err := attackBatch(wctx, wm, a, o.Epsilons, o.Seed, x[lo*per:hi*per], labels[lo:hi], clean[lo:hi], bi)
					mu.Lock()
					if err == nil {
						for ei := range row {
							row[ei].Success += succ[ei]
							row[ei].Seconds += secs[ei]
							report(cost(a) * float64(hi-lo))
						}
						finished = insertSorted(finished, bi)
						if o.BatchDone != nil {
							err = o.BatchDone(partial(a, o, n, finished, row))
						}
					}
					if err != nil {
						if firstErr == nil {
							firstErr = err
						}
						next = nb // the other workers stop after their batch
						mu.Unlock()
						cancel()
						return
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		cancel()
		if firstErr != nil {
			return nil, firstErr
		}
		if o.AttackDone != nil {
			if err := o.AttackDone(slices.Clone(row)); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func isDone(sorted []int, b int) bool {
	_, ok := slices.BinarySearch(sorted, b)
	return ok
}

func insertSorted(sorted []int, b int) []int {
	i, _ := slices.BinarySearch(sorted, b)
	return slices.Insert(sorted, i, b)
}

// partial is attack a's state after the finished batches, row its counts.
func partial(a string, o SweepOptions, n int, finished []int, row []Result) Partial {
	p := Partial{Attack: a, Epsilons: slices.Clone(o.Epsilons), N: n, Batch: o.Batch, Seed: o.Seed, Done: slices.Clone(finished)}
	for _, r := range row {
		p.Success = append(p.Success, r.Success)
		p.Seconds = append(p.Seconds, r.Seconds)
	}
	return p
}

// attackBatch runs attack a on one batch (x0, lab; clean is its clean
// misclassification, bi its index) at every ε and returns, per ε, how many
// samples are misclassified after it and the seconds it took (work shared by
// every ε split equally among them).
func attackBatch(ctx context.Context, m Model, a string, epsilons []float64, seed uint64, x0 []float32, lab []int, clean []bool, bi int) ([]int, []float64, error) {
	var df, g0 []float32
	var shared float64 // seconds of work shared by every ε
	var err error
	if a == NameFGSM || a == NameBIM {
		// FGSM's step and BIM's first are the same at every ε.
		start := time.Now()
		if g0, err = InputGradient(m, x0, lab); err != nil {
			return nil, nil, fmt.Errorf("attack: %s: %w", a, err)
		}
		shared = time.Since(start).Seconds() / float64(len(epsilons))
	}
	if a == NameDeepFool {
		start := time.Now()
		if df, _, err = DefaultDeepFool.Run(m, x0, lab); err != nil {
			return nil, nil, fmt.Errorf("attack: %s: %w", a, err)
		}
		shared = time.Since(start).Seconds() / float64(len(epsilons))
	}
	succ, secs := make([]int, len(epsilons)), make([]float64, len(epsilons))
	for ei, e := range epsilons {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		start := time.Now()
		mis := clean
		if e != 0 {
			eps := float32(e)
			rng := stream(seed, a, e, bi)
			var xp []float32
			switch a {
			case NameFGSM:
				xp, err = FGSM.run(m, x0, lab, eps, nil, g0)
			case NamePGD:
				xp, err = PGD.Run(m, x0, lab, eps, UniformStart(rng, len(x0), eps))
			case NameBIM:
				xp, err = BIM.run(m, x0, lab, eps, nil, g0)
			case NameUniform:
				xp, err = UniformNoise(rng, x0, len(lab), eps)
			case NameDeepFool:
				xp = df
			}
			if err != nil {
				return nil, nil, fmt.Errorf("attack: %s at ε=%g: %w", a, e, err)
			}
			if mis, err = Misclassified(m, ClipPerturbation(x0, xp, eps), lab); err != nil {
				return nil, nil, fmt.Errorf("attack: %s at ε=%g: %w", a, e, err)
			}
		}
		for _, v := range mis {
			if v {
				succ[ei]++
			}
		}
		secs[ei] = time.Since(start).Seconds() + shared
	}
	return succ, secs, nil
}
