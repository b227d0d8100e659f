#!/usr/bin/python3
"""Writes the PyTorch golden fixtures under testdata/torch/.

Run with Debian's PyTorch (apt-get install -y python3-torch python3-torchvision):

    /usr/bin/python3 testdata/torch/gen.py            # regenerate committed fixtures
    /usr/bin/python3 testdata/torch/gen.py --bench DIR  # full-size preact_resnet18 for benchmarks

Everything is deterministic for a given PyTorch build (fixed seeds). See README.md
for the file formats; models.py for the architectures.
"""

import argparse
import collections
import io
import json
import os
import pickle
import sys

import torch
from torchvision.models import resnet as tvresnet

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402

# name, arch, args, input shape (C, H, W). Small variants with the operator
# patterns of the published networks; see models.py for what each arg means.
FIXTURES = [
    ('lenet', 'lenet', {'num_classes': 10, 'nc': 1, 'width': 8}, (1, 28, 28)),
    ('preact_resnet18', 'preact_resnet18', {'num_classes': 10, 'nc': 3, 'width': 8}, (3, 32, 32)),
    # depth 20 -> n = 2 bottleneck blocks per stage; alpha 20 -> addrate 10/3,
    # so widths 19, 23, 26, 29, 33, 36 exercise the rounding.
    ('pyramidnet', 'pyramidnet', {'num_classes': 10, 'nc': 3, 'depth': 20, 'alpha': 20}, (3, 32, 32)),
    # depth 16 -> n = 2 blocks per stage (one with convShortcut, one identity
    # except block1 at widen 1); 32x32 keeps the avg_pool2d(7) quirk.
    ('wrn', 'wrn', {'num_classes': 10, 'nc': 3, 'depth': 16, 'widen': 1}, (3, 32, 32)),
    # depth 22 -> n = 3 bottleneck layers per dense block.
    ('densenet_bc', 'densenet_bc', {'num_classes': 10, 'nc': 3, 'depth': 22, 'growth': 6}, (3, 32, 32)),
    ('resnet18', 'resnet18', {'num_classes': 10, 'nc': 3, 'width': 8}, (3, 64, 64)),
    ('resnet101', 'resnet101', {'num_classes': 10, 'nc': 3, 'width': 4, 'depth': 101}, (3, 64, 64)),
]

BATCH = 3
SEED = 20200227  # FMix arXiv date


def randomize(model, gen):
    """Gives every BatchNorm non-trivial statistics and affine parameters.

    Without this, BN in eval is near-identity and BN folding bugs go unseen.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 100000, (1,), generator=gen)))
            elif isinstance(m, torch.nn.Linear) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        # Keep deep nets' activations in range: shrink the last BN of each
        # residual branch (as zero_init_residual would, but not to 0).
        for m in model.modules():
            if isinstance(m, models.PyramidBottleneck):
                m.bn4.weight.mul_(0.2)
            elif isinstance(m, tvresnet.Bottleneck):
                m.bn3.weight.mul_(0.2)
            elif isinstance(m, tvresnet.BasicBlock):
                m.bn2.weight.mul_(0.5)


def write_f32(path, t):
    t.detach().to(torch.float32).contiguous().numpy().astype('<f4').tofile(path)


def export_onnx(model, x, path):
    torch.onnx.export(model, x, path, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})


def _fields(buf):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError('protobuf wire type %d' % wt)
        yield num, wt, v


def _varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return v, i


def onnx_ops(path):
    """Counts the op types of an ONNX file's main graph (ModelProto.graph=7,
    GraphProto.node=1, NodeProto.op_type=4), without the onnx package."""
    with open(path, 'rb') as f:
        model = f.read()
    counts = collections.Counter()
    for num, _, graph in _fields(model):
        if num != 7:
            continue
        for gnum, _, node in _fields(graph):
            if gnum == 1:
                counts.update(v.decode() for n, _, v in _fields(node) if n == 4)
    return dict(sorted(counts.items()))


def make_model(arch, args, seed):
    torch.manual_seed(seed)
    model = models.build(arch, args)
    randomize(model, torch.Generator().manual_seed(seed + 1))
    model.eval()
    return model


def write_fixture(outdir, name, arch, args, shape, seed, save=True):
    model = make_model(arch, args, seed)
    x = torch.randn((BATCH,) + tuple(shape), generator=torch.Generator().manual_seed(seed + 2))
    with torch.no_grad():
        y = model(x)
    files = {'onnx': name + '.onnx', 'input': name + '.input.f32', 'logits': name + '.logits.f32'}
    export_onnx(model, x, os.path.join(outdir, files['onnx']))
    write_f32(os.path.join(outdir, files['input']), x)
    write_f32(os.path.join(outdir, files['logits']), y)
    sd = model.state_dict()
    if save:
        files['pt'] = name + '.pt'
        files['legacy_pt'] = name + '.legacy.pt'
        torch.save(sd, os.path.join(outdir, files['pt']))
        torch.save(sd, os.path.join(outdir, files['legacy_pt']), _use_new_zipfile_serialization=False)
    entry = {
        'name': name, 'arch': arch, 'args': args,
        'input_shape': [BATCH] + list(shape), 'logits_shape': list(y.shape),
        'params': sum(p.numel() for p in model.parameters()),
        'state_dict_keys': len(sd),
        'max_abs_logit': float(y.abs().max()),
    }
    entry.update(files)
    entry['onnx_ops'] = onnx_ops(os.path.join(outdir, files['onnx']))
    return entry, model, sd


def write_wrappers(outdir, entry, sd):
    """Wrapped state dicts the importer must unwrap: {'state_dict': sd},
    {'model': sd} and DataParallel's 'module.' prefix."""
    name = entry['name']
    prefixed = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
    variants = [
        ('state_dict', name + '.state_dict.pt', {'state_dict': sd, 'epoch': 200, 'optimizer': None}, True),
        ('model', name + '.model.legacy.pt', {'model': sd, 'epoch': 200}, False),
        ('module', name + '.module.pt', prefixed, True),
        ('module', name + '.module.legacy.pt', prefixed, False),
    ]
    out = []
    for wrapper, fname, obj, zipped in variants:
        torch.save(obj, os.path.join(outdir, fname), _use_new_zipfile_serialization=zipped)
        out.append({'wrapper': wrapper, 'file': fname, 'format': 'zip' if zipped else 'legacy'})
    entry['variants'] = out


class _Exec:
    """Pickles as a call of fn(*args): what a malicious checkpoint does."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def write_faults(outdir, base_entry, sd):
    """Checkpoints the importer must refuse (see faults.json)."""
    faults = []

    def save(fname, obj, zipped, kind, expect, **extra):
        torch.save(obj, os.path.join(outdir, fname), _use_new_zipfile_serialization=zipped)
        f = {'file': fname, 'format': 'zip' if zipped else 'legacy', 'kind': kind, 'expect': expect}
        f.update(extra)
        faults.append(f)

    arch_args = {'arch': base_entry['arch'], 'args': base_entry['args']}
    save('fault_not_state_dict.pt', [torch.zeros(2), torch.ones(3)], True, 'not_state_dict',
         'a list of tensors, not a mapping of names to tensors')
    save('fault_not_state_dict.legacy.pt', [torch.zeros(2), torch.ones(3)], False, 'not_state_dict',
         'a list of tensors, not a mapping of names to tensors')
    missing = collections.OrderedDict((k, v) for k, v in sd.items() if k != 'conv2.bias')
    save('fault_missing_key.pt', missing, True, 'missing_key', 'conv2.bias', **arch_args)
    misshaped = collections.OrderedDict(sd)
    misshaped['fc2.weight'] = torch.zeros(7, sd['fc2.weight'].shape[1])
    save('fault_misshaped_key.pt', misshaped, True, 'misshaped_key', 'fc2.weight', **arch_args)
    unexpected = collections.OrderedDict(sd)
    unexpected['fc2.extra'] = torch.zeros(3)
    save('fault_unexpected_key.legacy.pt', unexpected, False, 'unexpected_key', 'fc2.extra', **arch_args)
    # Code execution attempts: a REDUCE of os.system (pickled as posix.system)
    # and of builtins.eval (protocol 2 names it __builtin__.eval), inside an
    # otherwise normal state dict.
    evil = collections.OrderedDict(sd)
    evil['fc2.bias'] = _Exec(os.system, ('true',))
    save('fault_exec_system.pt', evil, True, 'code_execution', 'posix.system')
    evil['fc2.bias'] = _Exec(eval, ('1+1',))
    save('fault_exec_eval.legacy.pt', evil, False, 'code_execution', '__builtin__.eval')
    # A bare pickle of an os.system call, no torch framing: a .pt must be zip or legacy.
    with open(os.path.join(outdir, 'fault_bare_pickle.pt'), 'wb') as f:
        pickle.dump(_Exec(os.system, ('true',)), f, protocol=2)
    faults.append({'file': 'fault_bare_pickle.pt', 'format': 'none', 'kind': 'not_torch',
                   'expect': 'neither a zip archive nor a legacy torch file'})
    # torch.storage._load_from_bytes is how torch pickles a storage outside
    # torch.save; it unpickles nested bytes and must be refused too.
    buf = io.BytesIO()
    torch.save(sd['fc2.bias'], buf, _use_new_zipfile_serialization=False)
    save('fault_nested_pickle.pt', {'fc2.bias': _Exec(torch.storage._load_from_bytes, (buf.getvalue(),))},
         True, 'code_execution', 'torch.storage._load_from_bytes')
    return faults


def write_dtypes(outdir):
    """dtypes.pt / dtypes.legacy.pt: one state dict with every storage type,
    views with storage offsets and strides, scalars and empty tensors, plus
    dtypes.json/dtypes.expect.f32 holding what the Go reader must return."""
    g = torch.Generator().manual_seed(SEED + 99)
    base = torch.randn(6, 5, generator=g)
    sd = collections.OrderedDict()
    sd['f32'] = torch.randn(2, 3, 4, generator=g)
    sd['f16'] = (torch.randn(3, 4, generator=g) * 4).half()
    sd['bf16'] = (torch.randn(5, generator=g) * 4).bfloat16()
    sd['f64'] = torch.randn(2, 2, generator=g).double()
    sd['i64'] = torch.tensor([-3, 0, 7, 123456], dtype=torch.int64)
    sd['i32'] = torch.tensor([[1, -2], [3, -4]], dtype=torch.int32)
    sd['i16'] = torch.tensor([-300, 300], dtype=torch.int16)
    sd['i8'] = torch.tensor([-5, 5, 127], dtype=torch.int8)
    sd['u8'] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd['bool'] = torch.tensor([True, False, True])
    sd['scalar'] = torch.tensor(2.5)
    sd['num_batches_tracked'] = torch.tensor(4242)
    sd['empty'] = torch.zeros(0, 3)
    sd['base'] = base
    sd['transposed'] = base.t()                 # strides (1, 5), shares storage
    sd['offset_slice'] = base[2:4, 1:4]          # storage offset 11, strides (5, 1)
    sd['step_slice'] = base[::2, ::3]            # strides (10, 3)
    sd['expanded'] = torch.randn(3, 1, generator=g).expand(3, 4)  # stride 0
    sd['param'] = torch.nn.Parameter(torch.randn(4, generator=g))
    torch.save(sd, os.path.join(outdir, 'dtypes.pt'))
    torch.save(sd, os.path.join(outdir, 'dtypes.legacy.pt'), _use_new_zipfile_serialization=False)
    dtype_names = {torch.float32: 'float32', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
                   torch.float64: 'float64', torch.int64: 'int64', torch.int32: 'int32',
                   torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8', torch.bool: 'bool'}
    meta, chunks, off = [], [], 0
    for k, v in sd.items():
        flat = v.detach().to(torch.float32).contiguous().reshape(-1)
        meta.append({'key': k, 'shape': list(v.shape), 'dtype': dtype_names[v.dtype],
                     'offset': off, 'numel': flat.numel()})
        chunks.append(flat)
        off += flat.numel()
    write_f32(os.path.join(outdir, 'dtypes.expect.f32'), torch.cat(chunks))
    with open(os.path.join(outdir, 'dtypes.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')


def check_torchvision_layout():
    import torchvision
    for arch in models.RESNET_LAYERS:
        ours = models.build(arch, {}).state_dict()
        theirs = getattr(torchvision.models, arch)().state_dict()
        assert [(k, tuple(v.shape)) for k, v in ours.items()] == \
               [(k, tuple(v.shape)) for k, v in theirs.items()], arch


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=HERE, help='fixture directory (default: beside this script)')
    ap.add_argument('--bench', metavar='DIR',
                    help='instead write DIR/preact_resnet18_full.{onnx,input.f32,logits.f32} '
                         '(10 classes, width 64; not committed)')
    opts = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    if opts.bench:
        os.makedirs(opts.bench, exist_ok=True)
        entry, _, _ = write_fixture(opts.bench, 'preact_resnet18_full', 'preact_resnet18',
                                    {'num_classes': 10, 'nc': 3, 'width': 64}, (3, 32, 32), SEED, save=False)
        with open(os.path.join(opts.bench, 'preact_resnet18_full.json'), 'w') as f:
            json.dump(entry, f, indent=1)
            f.write('\n')
        print('wrote', os.path.join(opts.bench, entry['onnx']))
        return

    check_torchvision_layout()
    out = opts.out
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i, (name, arch, args, shape) in enumerate(FIXTURES):
        entry, model, sd = write_fixture(out, name, arch, args, shape, SEED + 10 * i)
        if name == 'lenet':
            write_wrappers(out, entry, sd)
            faults = write_faults(out, entry, sd)
        if name == 'preact_resnet18':
            # One tensor dumped raw for the reader's value check.
            key = 'layer2.0.shortcut.0.weight'
            entry['tensor_check'] = {'key': key, 'shape': list(sd[key].shape), 'file': name + '.tensor.f32'}
            write_f32(os.path.join(out, entry['tensor_check']['file']), sd[key])
        manifest.append(entry)
        print('%-16s params %8d  max|logit| %.3f' % (name, entry['params'], entry['max_abs_logit']))
    write_dtypes(out)
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    with open(os.path.join(out, 'faults.json'), 'w') as f:
        json.dump(faults, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
