#!/usr/bin/env python3
"""Training throughput of PyTorch on the benchmark bench.sh compares with:
PreAct-ResNet18 (width 64, 10 classes), 32x32x3 input, batch 128, SGD
momentum 0.9 weight decay 1e-4, soft-target cross-entropy, 2 threads.
Prints one line: "torch_img_per_s <value>".

Needs Debian's python3-torch. The model definition is the project's
reference one (testdata/torch/models.py)."""
import os
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "testdata", "torch"))
from models import preact_resnet18  # noqa: E402

threads = int(os.environ.get("BENCH_THREADS", "2"))
steps = int(os.environ.get("BENCH_STEPS", "5"))
torch.set_num_threads(threads)
torch.manual_seed(0)
net = preact_resnet18(num_classes=10, nc=3)
net.train()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
x = torch.randn(128, 3, 32, 32)
y = F.one_hot(torch.randint(0, 10, (128,)), 10).float()


def step():
    opt.zero_grad()
    loss = torch.sum(-y * F.log_softmax(net(x), dim=1), dim=1).mean()
    loss.backward()
    opt.step()


step()  # warm-up
start = time.perf_counter()
for _ in range(steps):
    step()
el = time.perf_counter() - start
print(f"torch_img_per_s {128 * steps / el:.2f}")
