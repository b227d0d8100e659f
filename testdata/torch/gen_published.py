#!/usr/bin/python3
"""Full-size random-weight stand-ins for the published FMix checkpoints (make test-published).

    /usr/bin/python3 testdata/torch/gen_published.py [--msda fmix] [--legacy] OUTDIR

writes, under OUTDIR, at the upstream paths (base http://marc.ecs.soton.ac.uk/pytorch-models):

    cifar10/preact-resnet18/cifar10_preact_resnet18_{msda}_0.pt   preact_resnet18, 10 classes
    cifar10/pyramidnet/cifar10_pyramidnet_{msda}.pt               pyramidnet depth 272, alpha 200
    imagenet/resnet101/imagenet_resnet101_{msda}.pt               torchvision resnet101, 1000 classes

each a plain state dict (zip format, or legacy with --legacy) of the models.py definitions at
their published sizes, with random weights and random BatchNorm statistics, plus for each
NAME (the weights.json name, e.g. pyramidnet_cifar10_fmix) NAME.input.f32 (a fixed batch of 2,
raw little-endian float32, NCHW: 3x32x32 for CIFAR, 3x224x224 for ImageNet) and NAME.logits.f32
(PyTorch's eval-mode logits, 2 x classes), and OUTDIR/published.json listing them:

    [{name, arch, args, upstream_path, pt, input, logits, input_shape, logits_shape,
      format, params, sha256}]

Serve OUTDIR over HTTP as ZOO_UPSTREAM and compare hub.Load(NAME)'s logits with NAME.logits.f32.
Nothing here is committed (the three files are ~45, ~105 and ~180 MB). Takes about a minute
on 2 cores.
"""

import argparse
import hashlib
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

PUBLISHED = [
    ('preact_resnet18_cifar10_{msda}', 'preact_resnet18', {'num_classes': 10, 'nc': 3},
     (3, 32, 32), '/cifar10/preact-resnet18/cifar10_preact_resnet18_{msda}_0.pt'),
    ('pyramidnet_cifar10_{msda}', 'pyramidnet', {'num_classes': 10, 'nc': 3, 'depth': 272, 'alpha': 200},
     (3, 32, 32), '/cifar10/pyramidnet/cifar10_pyramidnet_{msda}.pt'),
    ('renset101_imagenet_{msda}', 'resnet101', {'num_classes': 1000, 'nc': 3, 'depth': 101},
     (3, 224, 224), '/imagenet/resnet101/imagenet_resnet101_{msda}.pt'),
]
BATCH = 2


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('outdir')
    ap.add_argument('--msda', default='fmix', help='MSDA name in the file names (default fmix)')
    ap.add_argument('--legacy', action='store_true', help='legacy (non-zip) torch.save format')
    ap.add_argument('--only', default='', help='comma-separated archs to write (default: all three)')
    opts = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    only = set(filter(None, opts.only.split(',')))

    entries = []
    for i, (name, arch, args, shape, path) in enumerate(PUBLISHED):
        if only and arch not in only:
            continue
        name, path = name.format(msda=opts.msda), path.format(msda=opts.msda)
        seed = gen.SEED + 1000 + 10 * i
        model = gen.make_model(arch, args, seed)
        x = torch.randn((BATCH,) + shape, generator=torch.Generator().manual_seed(seed + 2))
        with torch.no_grad():
            y = model(x)
        pt = os.path.join(opts.outdir, path.lstrip('/'))
        os.makedirs(os.path.dirname(pt), exist_ok=True)
        torch.save(model.state_dict(), pt, _use_new_zipfile_serialization=not opts.legacy)
        gen.write_f32(os.path.join(opts.outdir, name + '.input.f32'), x)
        gen.write_f32(os.path.join(opts.outdir, name + '.logits.f32'), y)
        entries.append({
            'name': name, 'arch': arch, 'args': args, 'upstream_path': path,
            'pt': path.lstrip('/'), 'input': name + '.input.f32', 'logits': name + '.logits.f32',
            'input_shape': [BATCH] + list(shape), 'logits_shape': list(y.shape),
            'format': 'legacy' if opts.legacy else 'zip',
            'params': sum(p.numel() for p in model.parameters()), 'sha256': sha256(pt),
            'max_abs_logit': float(y.abs().max()),
        })
        print('%-28s params %9d  max|logit| %.3f  %s' % (name, entries[-1]['params'],
                                                        entries[-1]['max_abs_logit'], pt))
    with open(os.path.join(opts.outdir, 'published.json'), 'w') as f:
        json.dump(entries, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
