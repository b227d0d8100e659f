#!/usr/bin/python3
"""Writes the L-infinity adversarial attack golden fixtures under testdata/torch/.

Run with Debian's PyTorch (apt-get install -y python3-torch); foolbox is not
needed (nor installed): its attacks are re-implemented below in plain
PyTorch, following foolbox 3's source (bethgelab/foolbox, foolbox/attacks/:
gradient_descent_base.py BaseGradientDescent.run and the Linf mixins
get_random_start / normalize (sign) / project; fast_gradient_method.py,
projected_gradient_descent.py and basic_iterative_method.py for the
defaults; deepfool.py DeepFoolAttack.run, LinfDeepFoolAttack.get_distances
and get_perturbations, the "logits" loss of _get_loss_fn; base.py
FixedEpsilonAttack.__call__ / MinimizationAttack.__call__ and distances.py
LpDistance.clip_perturbation for the final clipping; criteria.py
Misclassification) step by step; each function says which lines it follows:

    /usr/bin/python3 testdata/torch/gen_attacks.py

For the lenet and preact_resnet18 fixtures of gen.py (random weights, <name>.pt)
wrapped with a normalisation inside the model (as the FMix seed's
analysis/adversarial_linf.py does: `Normalized(model)`, bounds (0, 1)), it
writes a few inputs in pixel space, their labels (the model's own top-1, so
that every attack has something to do) and, for each attack and epsilon, the
adversarial images foolbox would return (after FixedEpsilonAttack /
MinimizationAttack's clip_perturbation) and whether each is adversarial.
PGD's random start is drawn here and written too, so the Go side can replay
it. attacks.json lists everything.
"""

import gzip
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

EPSILONS = [0.01, 0.03]
FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'


def write_f32(path, t):
    t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tofile(path)


class Normalized(torch.nn.Module):
    """The seed's wrapper: the entry's normalisation inside the model."""

    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)

    def forward(self, x):
        return self.model((x - self.mean) / self.std)


def value_and_grad(fn, x):
    x = x.detach().clone().requires_grad_(True)
    loss, aux = fn(x)
    (g,) = torch.autograd.grad(loss, x)
    return loss.detach(), aux, g.detach()


def is_adversarial(model, x, labels):
    # foolbox.criteria.Misclassification: argmax(logits) != labels.
    with torch.no_grad():
        return model(x).argmax(dim=-1) != labels


def clip_perturbation(x0, xp, eps):
    # foolbox/distances.py LpDistance.clip_perturbation, p = inf:
    # references + clip(p, -epsilon, epsilon).
    return x0 + torch.clamp(xp - x0, -eps, eps)


def gradient_descent(model, x0, labels, eps, rel_stepsize, steps, start=None):
    """foolbox/attacks/gradient_descent_base.py BaseGradientDescent.run with
    the L-inf mixins (LinfBaseGradientDescent): untargeted, so
    gradient_step_sign = +1; loss_fn = crossentropy(logits, labels).sum();
    stepsize = rel_stepsize * epsilon; random start x0 + uniform(-eps, eps)
    then clip to bounds; each step x += stepsize * sign(grad), project onto
    x0 + clip(x - x0, -eps, eps), clip to bounds (0, 1)."""
    def loss_fn(x):
        logits = model(x)
        return torch.nn.functional.cross_entropy(logits, labels, reduction='sum'), logits

    stepsize = rel_stepsize * eps
    x = x0
    if start is not None:
        x = torch.clamp(x0 + start, 0, 1)
    for _ in range(steps):
        _, _, g = value_and_grad(loss_fn, x)
        x = x + stepsize * g.sign()
        x = x0 + torch.clamp(x - x0, -eps, eps)
        x = torch.clamp(x, 0, 1)
    return x


def deepfool_linf(model, x0, labels, steps=50, candidates=10, overshoot=0.02):
    """foolbox/attacks/deepfool.py DeepFoolAttack.run + LinfDeepFoolAttack,
    loss='logits': candidate classes are the clean logits' top `candidates`;
    loss_k = logits[k-th candidate] - logits[top-1]; each step stops early
    when every row is adversarial, else takes, per row, the candidate with
    the smallest |loss_k| / (||grad_k||_1 + 1e-8), adds (distance + 1e-4) *
    sign(grad_k) to p_total and sets the rows not yet adversarial to
    clip(x0 + (1 + overshoot) * p_total, 0, 1)."""
    with torch.no_grad():
        logits = model(x0)
    classes = logits.argsort(dim=-1, descending=True)
    candidates = min(candidates, logits.shape[-1])
    classes = classes[:, :candidates]
    n = len(x0)
    rows = torch.arange(n)

    def loss_aux_and_grad(x, k):
        def fn(x):
            logits = model(x)
            ik = classes[:, k]
            l0 = logits[rows, classes[:, 0]]
            lk = logits[rows, ik]
            loss = lk - l0
            return loss.sum(), (loss.detach(), logits.detach())
        _, aux, g = value_and_grad(fn, x)
        return aux, g

    x = x0
    p_total = torch.zeros_like(x0)
    taken = 0
    for _ in range(steps):
        diffs = [loss_aux_and_grad(x, 1)]
        _, logits = diffs[0][0]
        is_adv = logits.argmax(dim=-1) != labels
        if is_adv.all():
            break
        taken += 1
        diffs += [loss_aux_and_grad(x, k) for k in range(2, candidates)]
        losses = torch.stack([aux[0] for aux, _ in diffs], dim=1)
        grads = torch.stack([g for _, g in diffs], dim=1)
        distances = losses.abs() / (grads.flatten(2).abs().sum(dim=-1) + 1e-8)
        best = distances.argmin(dim=1)
        distances = distances[rows, best]
        grads = grads[rows, best]
        distances = distances + 1e-4
        p_step = distances.view(-1, 1, 1, 1) * grads.sign()
        p_total += p_step
        x = torch.where(is_adv.view(-1, 1, 1, 1), x, x0 + (1.0 + overshoot) * p_total)
        x = torch.clamp(x, 0, 1)
    return x, taken


def fashion_images(n):
    with gzip.open(FASHION, 'rb') as f:
        data = f.read()
    pix = torch.frombuffer(bytearray(data[16:16 + n * 784]), dtype=torch.uint8)
    return pix.to(torch.float32).view(n, 1, 28, 28) / 255


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(17)
    fixtures = [
        # name, arch, args, normalisation, inputs
        ('lenet', 'lenet', {'num_classes': 10, 'nc': 1, 'width': 8},
         ([0.2860], [0.3530]), lambda: fashion_images(4)),
        ('preact_resnet18', 'preact_resnet18', {'num_classes': 10, 'nc': 3, 'width': 8},
         ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]),
         lambda: torch.rand((3, 3, 32, 32), generator=g)),
    ]
    out = []
    for name, arch, args, (mean, std), images in fixtures:
        net = models.build(arch, args)
        net.load_state_dict(torch.load(os.path.join(HERE, name + '.pt')))
        net.eval()
        model = Normalized(net, mean, std)
        # Inputs inside [0.05, 0.95] with a little noise: no ties for max
        # pooling and no bound clipping at these epsilons, so that sign(grad)
        # is the same in float32 on both sides.
        imgs = images()
        x0 = 0.05 + 0.9 * imgs + 0.01 * torch.rand(imgs.shape, generator=g)
        x0 = torch.clamp(x0, 0.05, 0.95)
        with torch.no_grad():
            logits = model(x0)
        labels = logits.argmax(dim=-1)
        base = 'attack_' + name
        write_f32(os.path.join(HERE, base + '.x.f32'), x0)
        entry = {
            'name': name, 'arch': arch, 'args': args, 'pt': name + '.pt',
            'mean': mean, 'std': std, 'input_shape': list(x0.shape),
            'labels': labels.tolist(), 'x': base + '.x.f32', 'cases': [],
        }
        adv, taken = deepfool_linf(model, x0, labels)
        write_f32(os.path.join(HERE, base + '.deepfool.f32'), adv)
        entry['deepfool'] = {'file': base + '.deepfool.f32', 'steps_taken': taken}
        for eps in EPSILONS:
            start = (torch.rand(x0.shape, generator=g) * 2 - 1) * eps
            start_file = '%s.pgd_start.%g.f32' % (base, eps)
            write_f32(os.path.join(HERE, start_file), start)
            runs = {
                # foolbox/attacks/fast_gradient_method.py LinfFastGradientAttack:
                # rel_stepsize=1.0, steps=1, random_start=False.
                'fgsm': gradient_descent(model, x0, labels, eps, 1.0, 1),
                # projected_gradient_descent.py LinfProjectedGradientDescentAttack:
                # rel_stepsize=0.01 / 0.3, steps=40, random_start=True.
                'pgd': gradient_descent(model, x0, labels, eps, 0.01 / 0.3, 40, start),
                # basic_iterative_method.py LinfBasicIterativeAttack:
                # rel_stepsize=0.2, steps=10, random_start=False.
                'bim': gradient_descent(model, x0, labels, eps, 0.2, 10),
                'deepfool': adv,
            }
            for attack, xp in runs.items():
                xpc = clip_perturbation(x0, xp, eps)
                f = '%s.%s.%g.f32' % (base, attack, eps)
                write_f32(os.path.join(HERE, f), xpc)
                case = {'attack': attack, 'epsilon': eps, 'file': f,
                        'adversarial': is_adversarial(model, xpc, labels).tolist()}
                if attack == 'pgd':
                    case['start'] = start_file
                entry['cases'].append(case)
                print('%-16s %-8s eps %-5g adversarial %s max|x-x0| %.4g' % (
                    name, attack, eps, case['adversarial'], float((xpc - x0).abs().max())))
        print('%-16s deepfool steps taken %d' % (name, taken))
        out.append(entry)
    with open(os.path.join(HERE, 'attacks.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
