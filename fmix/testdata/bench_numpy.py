#!/usr/bin/env python3
"""Time the published FMix mask algorithm (ecs-vlc/FMix fmix.py) with numpy.

A faithful copy of fmix.py's sample_mask path (fftfreqnd, get_spectrum,
make_low_freq_image, binarise_mask; scipy's beta.rvs replaced by numpy's
beta, which draws from the same distribution). Two timings per shape:

  core:   make_low_freq_image's transform and binarise_mask, from fixed
          draws (no random numbers), at lambda = 0.5;
  sample: the whole sample_mask, random draws included.

Prints one line per shape: "<shape> <core_us> <sample_us>" (microseconds per
mask, best of 5 repeats). Used by scripts/bench-fmix.sh (make bench).
"""
import math
import random
import sys
import timeit

import numpy as np


def fftfreqnd(h, w=None, z=None):
    fz = fx = 0
    fy = np.fft.fftfreq(h)
    if w is not None:
        fy = np.expand_dims(fy, -1)
        if w % 2 == 1:
            fx = np.fft.fftfreq(w)[: w // 2 + 2]
        else:
            fx = np.fft.fftfreq(w)[: w // 2 + 1]
    if z is not None:
        fy = np.expand_dims(fy, -1)
        if z % 2 == 1:
            fz = np.fft.fftfreq(z)[:, None]
        else:
            fz = np.fft.fftfreq(z)[:, None]
    return np.sqrt(fx * fx + fy * fy + fz * fz)


def get_spectrum(freqs, decay_power, ch, h, w=0, z=0, param=None):
    scale = np.ones(1) / (np.maximum(freqs, np.array([1. / max(w, h, z)])) ** decay_power)
    param_size = [ch] + list(freqs.shape) + [2]
    if param is None:
        param = np.random.randn(*param_size)
    scale = np.expand_dims(scale, -1)[None, :]
    return scale * param


def make_low_freq_image(decay, shape, ch=1, param=None):
    freqs = fftfreqnd(*shape)
    spectrum = get_spectrum(freqs, decay, ch, *shape, param=param)
    spectrum = spectrum[:, 0] + 1j * spectrum[:, 1]
    mask = np.real(np.fft.irfftn(spectrum, shape))
    if len(shape) == 1:
        mask = mask[:1, :shape[0]]
    if len(shape) == 2:
        mask = mask[:1, :shape[0], :shape[1]]
    if len(shape) == 3:
        mask = mask[:1, :shape[0], :shape[1], :shape[2]]
    mask = (mask - mask.min())
    mask = mask / mask.max()
    return mask


def binarise_mask(mask, lam, in_shape, max_soft=0.0, round_up=None):
    idx = mask.reshape(-1).argsort()[::-1]
    mask = mask.reshape(-1)
    if round_up is None:
        round_up = random.random() > 0.5
    num = math.ceil(lam * mask.size) if round_up else math.floor(lam * mask.size)
    eff_soft = max_soft
    if max_soft > lam or max_soft > (1 - lam):
        eff_soft = min(lam, 1 - lam)
    soft = int(mask.size * eff_soft)
    num_low = num - soft
    num_high = num + soft
    mask[idx[:num_high]] = 1
    mask[idx[num_low:]] = 0
    mask[idx[num_low:num_high]] = np.linspace(1, 0, (num_high - num_low))
    mask = mask.reshape((1, *in_shape))
    return mask


def sample_mask(alpha, decay_power, shape, max_soft=0.0):
    lam = np.random.beta(alpha, alpha)
    mask = make_low_freq_image(decay_power, shape)
    mask = binarise_mask(mask, lam, shape, max_soft)
    return lam, mask


def best_us(fn, target=0.3):
    n = 1
    while True:
        t = timeit.timeit(fn, number=n)
        if t >= target or n >= 1 << 20:
            break
        n *= 2
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def main(argv):
    shapes = [tuple(int(d) for d in a.split("x")) for a in argv] or [(32, 32), (224, 224), (64, 64, 64)]
    np.random.seed(0)
    random.seed(0)
    for shape in shapes:
        freqs = fftfreqnd(*shape)
        param = np.random.randn(1, *freqs.shape, 2)

        def core():
            low = make_low_freq_image(3, shape, param=param)
            binarise_mask(low, 0.5, shape, round_up=True)

        def sample():
            sample_mask(1, 3, shape)

        print("x".join(map(str, shape)), "%.1f" % best_us(core), "%.1f" % best_us(sample), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
