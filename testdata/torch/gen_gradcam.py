#!/usr/bin/python3
"""Writes the Grad-CAM and input-gradient golden fixtures under testdata/torch/.

Run with Debian's PyTorch (apt-get install -y python3-torch python3-torchvision):

    /usr/bin/python3 testdata/torch/gen_gradcam.py

It reuses gen.py's fixtures: each architecture's random-weight state dict
(<name>.pt) and its batch of 3 inputs (<name>.input.f32). For each it writes

    <name>.dinput.f32  d(sum_b logits[b, classes[b]]) / d input, batch x C x H x W
    <name>.gradcam.f32 Grad-CAM of classes[b] at the default layer, batch x H x W

and gradcam.json lists name, arch, args, layer, classes and files.

Grad-CAM (Selvaraju et al. 2017), as zoo.GradCAM computes it: forward and
backward hooks on the layer's module give A (N x K x h x w) and dA =
d logits[b, c_b] / dA; the channel weights are dA's spatial mean; the map
is ReLU(sum_k w_k A_k), upsampled to the input's H x W with
F.interpolate(mode='bilinear', align_corners=False), then min-max
normalised per image to [0, 1] (an all-equal map becomes 0).
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

# The default Grad-CAM layer of each architecture (zoo.Net.CAMLayer): the
# output of the last convolutional stage.
LAYERS = {
    'lenet': 'conv2',
    'preact_resnet18': 'layer4',
    'pyramidnet': 'layer3',
    'wrn': 'block3',
    'densenet_bc': 'block3',
    'resnet18': 'layer4',
    'resnet101': 'layer4',
}


def read_f32(path, shape):
    with open(path, 'rb') as f:
        data = f.read()
    return torch.frombuffer(bytearray(data), dtype=torch.float32).reshape(shape)


def write_f32(path, t):
    t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tofile(path)


def grad_cam(model, layer, x, classes):
    """Returns (logits, d input, normalised CAM) for one batch."""
    store = {}
    module = model.get_submodule(layer)
    fh = module.register_forward_hook(lambda m, i, o: store.__setitem__('act', o))
    bh = module.register_full_backward_hook(lambda m, gi, go: store.__setitem__('grad', go[0]))
    x = x.clone().requires_grad_(True)
    logits = model(x)
    score = logits[torch.arange(len(classes)), torch.tensor(classes)].sum()
    score.backward()
    fh.remove()
    bh.remove()
    act, grad = store['act'].detach(), store['grad'].detach()
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[2:], mode='bilinear', align_corners=False)[:, 0]
    out = torch.zeros_like(cam)
    for b in range(cam.shape[0]):
        lo, hi = cam[b].min(), cam[b].max()
        if hi > lo:
            out[b] = (cam[b] - lo) / (hi - lo)
    return logits.detach(), x.grad.detach(), out


def main():
    torch.set_grad_enabled(True)
    with open(os.path.join(HERE, 'manifest.json')) as f:
        manifest = json.load(f)
    out = []
    for fx in manifest:
        name, arch = fx['name'], fx['arch']
        if name not in LAYERS:
            continue
        model = models.build(arch, fx['args'])
        model.load_state_dict(torch.load(os.path.join(HERE, fx['pt'])))
        model.eval()
        x = read_f32(os.path.join(HERE, fx['input']), fx['input_shape'])
        # Each row's top-1 class, the last row's second: maps that are
        # mostly not zero at these random weights.
        with torch.no_grad():
            order = model(x).argsort(dim=1, descending=True)
        classes = [int(order[b, 1 if b == x.shape[0] - 1 else 0]) for b in range(x.shape[0])]
        logits, dinput, cam = grad_cam(model, LAYERS[name], x, classes)
        want = read_f32(os.path.join(HERE, fx['logits']), fx['logits_shape'])
        assert torch.allclose(logits, want, atol=1e-4), name
        write_f32(os.path.join(HERE, name + '.dinput.f32'), dinput)
        write_f32(os.path.join(HERE, name + '.gradcam.f32'), cam)
        nonzero = [float((cam[b] > 0).float().mean()) for b in range(cam.shape[0])]
        print('%-16s layer %-7s classes %s: map nonzero fraction %s' %
              (name, LAYERS[name], classes, ['%.2f' % v for v in nonzero]))
        out.append({
            'name': name, 'arch': arch, 'args': fx['args'], 'pt': fx['pt'],
            'input': fx['input'], 'input_shape': fx['input_shape'],
            'layer': LAYERS[name], 'classes': classes,
            'dinput': name + '.dinput.f32', 'gradcam': name + '.gradcam.f32',
        })
    with open(os.path.join(HERE, 'gradcam.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
