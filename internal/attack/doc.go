// Package attack runs L∞ adversarial attacks on image classifiers with
// foolbox 3's semantics and defaults, the attacks of the FMix seed's
// analysis/adversarial_linf.py, and sweeps them over a list of ε.
//
// Everything happens in pixel space: inputs are batch × C × H × W values in
// the bounds [0, 1], and the model applies its own normalisation (a weights
// entry's mean and std) inside, as the seed's Normalized wrapper does; NetModel
// adapts a zoo.Net that way, chain-ruling its gradients through the
// normalisation (∂/∂pixel = ∂/∂x_norm / std).
//
// The attacks, each followed (as foolbox's FixedEpsilonAttack and
// MinimizationAttack do) by clipping the perturbation to [−ε, ε]:
//
//   - FGSM (LinfFastGradientAttack): one step of ε·sign(∇ loss), loss the
//     summed softmax cross-entropy of the labels.
//   - PGD (LinfProjectedGradientDescentAttack): a uniform random start in
//     [−ε, ε], then 40 steps of (0.01/0.3)·ε·sign(∇ loss), each projected onto
//     the ε-ball around the input and clipped to the bounds.
//   - BIM (LinfBasicIterativeAttack): 10 such steps of 0.2·ε, no random start.
//   - Uniform (LinfAdditiveUniformNoiseAttack): noise u ~ U(−1, 1) scaled by
//     ε / max(u) (foolbox's LinfMixin divides by the maximum, not by the
//     largest magnitude), added and clipped to the bounds.
//   - DeepFool (LinfDeepFoolAttack): 50 steps at most, the clean logits' 10
//     most likely classes as candidates, overshoot 0.02, the "logits" loss;
//     run once and clipped to each ε.
//
// Success is foolbox's: the clipped adversarial is misclassified
// (argmax ≠ label). Like the seed, which stores foolbox's success for every
// test image, a sweep counts every sample, including those the model already
// gets wrong, so the success rate at ε = 0 is the model's error rate.
package attack
