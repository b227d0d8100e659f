package attack

import (
	"fmt"
	"math"
	"sort"

	"github.com/fmixzoo/zoo/kernels"
)

// DeepFool is foolbox's LinfDeepFoolAttack with the "logits" loss.
type DeepFool struct {
	Steps      int     // at most this many steps (foolbox: 50)
	Candidates int     // the clean logits' most likely classes considered (foolbox: 10)
	Overshoot  float32 // foolbox: 0.02
}

// DefaultDeepFool has foolbox 3's defaults.
var DefaultDeepFool = DeepFool{Steps: 50, Candidates: 10, Overshoot: 0.02}

// Run attacks x0 (batch × Size pixels) and returns the adversarials before
// ClipPerturbation, and the number of steps taken. As in foolbox's
// DeepFoolAttack.run: the candidates are the clean logits' top classes
// c_0, c_1, …; a step stops the attack when every row is misclassified, else
// it takes, for each row, the candidate k with the smallest
// |l_k − l_0| / (‖∇(l_k − l_0)‖₁ + 1e-8), adds (that distance + 1e-4) ·
// sign(∇(l_k − l_0)) to the row's total perturbation p and, for rows not yet
// misclassified, sets x = clip(x0 + (1 + overshoot)·p). A row once
// misclassified never changes again, so only the others are differentiated:
// each step is one gradient of the first candidate for those rows and, for
// the rows still correct, the remaining candidates' gradients in one batch
// (rows × candidates−2).
func (d DeepFool) Run(m Model, x0 []float32, labels []int) ([]float32, int, error) {
	n, err := checkBatch(m, x0, labels)
	if err != nil {
		return nil, 0, err
	}
	if d.Steps < 0 || d.Candidates < 2 || !(d.Overshoot >= 0) {
		return nil, 0, fmt.Errorf("%w: DeepFool steps %d, candidates %d, overshoot %v", ErrInput, d.Steps, d.Candidates, d.Overshoot)
	}
	per, classes := m.Size(), m.NumClasses()
	logits, err := m.Logits(x0, n)
	if err != nil {
		return nil, 0, fmt.Errorf("attack: deepfool: logits: %w", err)
	}
	cands := min(d.Candidates, classes)
	if cands < 2 {
		return nil, 0, fmt.Errorf("%w: DeepFool needs at least 2 classes, the model has %d", ErrInput, classes)
	}
	top := make([][]int, n) // each row's candidates, most likely first
	for b := range n {
		top[b] = topClasses(logits[b*classes:(b+1)*classes], cands)
	}
	x := append([]float32(nil), x0...)
	pTotal := make([]float32, len(x0))
	adv := make([]bool, n)
	taken := 0
	for range d.Steps {
		// The first candidate at every row not yet misclassified; its
		// logits tell which rows are now.
		var rows []int
		for b := range n {
			if !adv[b] {
				rows = append(rows, b)
			}
		}
		if len(rows) == 0 {
			break
		}
		lg, g1, err := gradientRows(m, x, rows, top, 1, per, classes)
		if err != nil {
			return nil, 0, err
		}
		var active []int // indices into rows
		for i, b := range rows {
			if kernels.Argmax(lg[i*classes:(i+1)*classes]) != labels[b] {
				adv[b] = true
			} else {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			break
		}
		taken++
		// The other candidates' gradients, rows × (cands−2) in one batch.
		var xs []float32
		var seeds []float32
		for _, i := range active {
			b := rows[i]
			for k := 2; k < cands; k++ {
				xs = append(xs, x[b*per:(b+1)*per]...)
				seeds = append(seeds, seedFor(top[b], k, classes)...)
			}
		}
		var gk []float32
		if len(xs) > 0 {
			if _, gk, err = m.Gradient(xs, len(xs)/per, Objective{Seed: seeds}); err != nil {
				return nil, 0, fmt.Errorf("attack: deepfool: gradient: %w", err)
			}
		}
		for j, i := range active {
			b := rows[i]
			row := lg[i*classes : (i+1)*classes]
			l0 := row[top[b][0]]
			bestD, bestG := float32(math.Inf(1)), []float32(nil)
			for k := 1; k < cands; k++ {
				var g []float32
				if k == 1 {
					g = g1[i*per : (i+1)*per]
				} else {
					o := (j*(cands-2) + k - 2) * per
					g = gk[o : o+per]
				}
				var l1 float32
				for _, v := range g {
					l1 += float32(math.Abs(float64(v)))
				}
				dist := float32(math.Abs(float64(row[top[b][k]]-l0))) / (l1 + 1e-8)
				if dist < bestD || bestG == nil {
					bestD, bestG = dist, g
				}
			}
			bestD += 1e-4
			for p, v := range bestG {
				o := b*per + p
				pTotal[o] += bestD * sign(v)
				x[o] = clip(x0[o]+(1+d.Overshoot)*pTotal[o], lower, upper)
			}
		}
	}
	return x, taken, nil
}

// gradientRows differentiates l_{c_k} − l_{c_0} at the given rows of x.
func gradientRows(m Model, x []float32, rows []int, top [][]int, k, per, classes int) ([]float32, []float32, error) {
	xs := make([]float32, 0, len(rows)*per)
	seeds := make([]float32, 0, len(rows)*classes)
	for _, b := range rows {
		xs = append(xs, x[b*per:(b+1)*per]...)
		seeds = append(seeds, seedFor(top[b], k, classes)...)
	}
	lg, g, err := m.Gradient(xs, len(rows), Objective{Seed: seeds})
	if err != nil {
		return nil, nil, fmt.Errorf("attack: deepfool: gradient: %w", err)
	}
	return lg, g, nil
}

// seedFor is onehot(c_k) − onehot(c_0).
func seedFor(top []int, k, classes int) []float32 {
	s := make([]float32, classes)
	s[top[k]] = 1
	s[top[0]] = -1
	return s
}

// topClasses returns the indices of the k largest values, largest first.
func topClasses(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] })
	return idx[:k]
}
