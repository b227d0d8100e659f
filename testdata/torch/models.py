"""Reference PyTorch definitions of the fmixzoo architectures.

These are the definitions the Go zoo (package zoo) reimplements. Module
attribute names are chosen so that `model.state_dict()` has EXACTLY the keys of
the checkpoints the FMix authors published (github.com/ecs-vlc/FMix, files
models/resnet.py, models/pyramid.py, models/wide_resnet.py,
models/densenet3.py) and of torchvision's ResNet. Forward passes follow those
files operation for operation (including their quirks, noted below). Only
reduced widths/depths are added, as constructor options, so that small test
fixtures share the operator patterns of the published networks.

Every convolution below has bias=False unless stated; every BatchNorm2d uses
PyTorch defaults (eps=1e-5, momentum=0.1, affine, running stats), so each BN
contributes KEY.weight, KEY.bias, KEY.running_mean, KEY.running_var and
KEY.num_batches_tracked (int64 scalar) to the state dict. Linear layers have a
bias. "conv3x3" = kernel 3, padding 1; "conv1x1" = kernel 1, padding 0.

Architectures (arch name -> constructor(args) -> key layout)
============================================================

lenet(num_classes=10, nc=1, width=8)                     input nc x 28 x 28
    Our own small LeNet-style net (not published; used for the shipped
    Fashion-MNIST-sized models).
      conv1   Conv2d(nc, width, 5, bias=True)      28 -> 24
      ReLU, MaxPool2d(2)                            24 -> 12
      conv2   Conv2d(width, 2*width, 5, bias=True) 12 -> 8
      ReLU, MaxPool2d(2)                            8 -> 4
      flatten (C-major: channel, row, col)          2*width*16
      fc1     Linear(2*width*16, 8*width)
      ReLU
      fc2     Linear(8*width, num_classes)
    width=8: conv1 1->8, conv2 8->16, fc1 256->64, fc2 64->10.

preact_resnet18(num_classes=10, nc=3, width=64)          input nc x 32 x 32
    FMix models/resnet.py ResNet18 = ResNet(PreActBlock, [2,2,2,2]). The
    published net is width=64 (hard-coded there); width scales every stage.
      conv1   conv3x3(nc, width)
      bn1     BN(width) ; ReLU          (note: applied, then layer1)
      layer{1..4}.{0,1}  PreActBlock, planes = width*(1,2,4,8), stride of
              block 0 = (1,2,2,2), block 1 stride 1
      adaptive_avg_pool2d(1) ; flatten
      linear  Linear(8*width, num_classes)
    PreActBlock(in, planes, stride):
      bn1 = BN(in); conv1 = conv3x3(in, planes, stride);
      bn2 = BN(planes); conv2 = conv3x3(planes, planes)
      shortcut.0 = conv1x1(in, planes, stride)  ONLY when stride!=1 or in!=planes
      forward: a = relu(bn1(x)); sc = shortcut.0(a) if present else a
               out = conv1(a); out = conv2(relu(bn2(out))); return out + sc
      (both shortcuts start from the activated a, not from x: the FMix file
       applies an empty nn.Sequential to a. No ReLU after the addition.)
    Keys: conv1.weight, bn1.*, layer1.0.bn1.*, layer1.0.conv1.weight,
      layer1.0.bn2.*, layer1.0.conv2.weight, layer2.0.shortcut.0.weight, ...,
      linear.weight, linear.bias. With width=64 and 10 classes: 11,171,274
      parameters (11.17M).

pyramidnet(depth=272, alpha=200, num_classes=10, nc=3, bottleneck=True)
                                                          input nc x 32 x 32
    FMix models/pyramid.py aa_PyramidNet, CIFAR branch, bottleneck blocks
    (the only variant we support). n = (depth-2)//9 blocks per stage
    (depth 272 -> n=30). addrate = alpha / (3n) as float64.
      conv1   conv3x3(nc, 16) ; bn1 = BN(16)          (no ReLU here!)
      layer1 (stride 1), layer2 (stride 2), layer3 (stride 2): n blocks each
      bn_final = BN(C_final) ; ReLU ; AvgPool2d(8) ; flatten
      fc      Linear(C_final, num_classes)
    Widths: featuremap_dim (float64) starts at 16 and, for every block in
      order, featuremap_dim += addrate; that block's planes =
      int(round(featuremap_dim)) using PYTHON 3 round() = round half to
      even (Go: math.RoundToEven), computed from the running float64 sum
      (accumulate exactly as `f = f + addrate`, not 16 + k*addrate).
      The block's input channels are 16 for the very first block, else
      4 * planes of the previous block. C_final = 4 * planes of the last.
    Bottleneck(in, planes, stride, downsample, p):  (out = 4*planes)
      bn1 = BN(in); conv1 = conv1x1(in, planes)
      bn2 = BN(planes); ReLU; conv2 = conv3x3(planes, planes, stride)
      bn3 = BN(planes); ReLU; conv3 = conv1x1(planes, 4*planes)
      bn4 = BN(4*planes); ShakeDrop(p)
      shortcut = AvgPool2d(2, stride 2, ceil_mode=True)(x) for the first
        block of layer2/layer3 (the blocks with stride 2), else x;
      if shortcut has fewer channels than out, zero channels are
        concatenated after it (torch.cat((shortcut, zeros), 1)); out + that.
      (There is no ReLU after the addition.)
    ShakeDrop: block i (0-based, counted over all 3n blocks) has
      p_i = 1 - (1 - (0.5/(3n))*(i+1)), i.e. 0.5(i+1)/(3n).
      eval: out * (1 - p_i).
      train: one gate ~ Bernoulli(1-p_i) per forward; gate 1 -> identity;
        gate 0 -> forward multiplies example b by alpha_b ~ U(-1,1),
        backward multiplies the gradient by beta_b ~ U(0,1).
    ShakeDrop and AvgPool have no parameters. Keys: conv1.weight, bn1.*,
      layer1.0.bn1.*, layer1.0.conv1.weight, layer1.0.bn2.*,
      layer1.0.conv2.weight, layer1.0.bn3.*, layer1.0.conv3.weight,
      layer1.0.bn4.*, ..., bn_final.*, fc.weight, fc.bias.
      depth 272, alpha 200, 10 classes: 26,210,842 parameters (26.2M).
    WRN-28-10 (10 classes): 36,479,194. DenseNet-BC-190 k=40: 25,624,430.

wrn(depth=28, widen=10, num_classes=10, nc=3)            input nc x 32 x 32
    FMix models/wide_resnet.py WideResNet (dropRate 0; note the FMix file's
    own default is nc=1). n = (depth-4)//6, channels
    [16, 16*widen, 32*widen, 64*widen].
      conv1   conv3x3(nc, 16)
      block1.layer.{0..n-1}  stride 1, 16 -> 16w
      block2.layer.{0..n-1}  stride 2, 16w -> 32w
      block3.layer.{0..n-1}  stride 2, 32w -> 64w
      bn1 = BN(64w) ; ReLU ; avg_pool2d(kernel 7, stride 7, no padding)
      flatten ; fc = Linear(64w, num_classes)
      QUIRK kept as published: on 32x32 input the final map is 8x8 and
      avg_pool2d(7) averages only its top-left 7x7 window (output 1x1).
    BasicBlock(in, out, stride): bn1 = BN(in); conv1 = conv3x3(in, out,
      stride); bn2 = BN(out); conv2 = conv3x3(out, out);
      convShortcut = conv1x1(in, out, stride) ONLY when in != out.
      forward: if in != out: x = relu(bn1(x)); h = x      (x is replaced!)
               else:         h = relu(bn1(x))
               h = conv2(relu(bn2(conv1(h))))
               return (x if in == out else convShortcut(x)) + h
    Keys: conv1.weight, block1.layer.0.bn1.*, block1.layer.0.conv1.weight,
      block1.layer.0.bn2.*, block1.layer.0.conv2.weight,
      block1.layer.0.convShortcut.weight, ..., bn1.*, fc.weight, fc.bias.

densenet_bc(depth=190, growth=40, num_classes=10, nc=3)  input nc x 32 x 32
    FMix models/densenet3.py DenseNet3 with bottleneck=True, reduction=0.5,
    dropRate 0. n = ((depth-4)//3)//2 bottleneck layers per dense block
    (depth 190 -> n=31). c = 2*growth.
      conv1   conv3x3(nc, c)
      block1.layer.{0..n-1} ; c += n*growth
      trans1  (bn1 = BN(c); ReLU; conv1 = conv1x1(c, floor(c*0.5));
               avg_pool2d(2)) ; c = floor(c*0.5)
      block2 ..., trans2 ..., block3 ...
      bn1 = BN(c) ; ReLU ; adaptive_avg_pool2d(1) ; flatten
      fc = Linear(c, num_classes)
    BottleneckBlock(in, growth): bn1 = BN(in); ReLU; conv1 = conv1x1(in,
      4*growth); bn2 = BN(4*growth); ReLU; conv2 = conv3x3(4*growth, growth);
      return cat([x, out], 1)   (input channels first).
    Keys: conv1.weight, block1.layer.0.bn1.*, block1.layer.0.conv1.weight,
      block1.layer.0.bn2.*, block1.layer.0.conv2.weight, trans1.bn1.*,
      trans1.conv1.weight, ..., block3.layer.{n-1}..., bn1.*, fc.weight,
      fc.bias.

resnet18 / resnet34 / resnet50 / resnet101 / resnet152
    (num_classes=1000, nc=3, width=64)                     input nc x H x W
    torchvision.models.resnet.ResNet layout and forward, block counts
    [2,2,2,2] / [3,4,6,3] (BasicBlock) and [3,4,6,3] / [3,4,23,3] /
    [3,8,36,3] (Bottleneck, expansion 4, stride on the 3x3 conv as in
    torchvision >= 0.5). `width` (ours) replaces torchvision's hard-coded 64:
    stage planes = width*(1,2,4,8); width=64 is torchvision exactly (checked
    key-for-key and shape-for-shape by gen.py against torchvision's models).
      conv1   Conv2d(nc, width, 7, stride 2, padding 3) ; bn1 ; ReLU
      maxpool MaxPool2d(3, stride 2, padding 1)
      layer1..layer4 (stride 1,2,2,2 on block 0)
      avgpool AdaptiveAvgPool2d(1) ; flatten ; fc = Linear(8*width*exp, nc)
    BasicBlock: conv1 (3x3, stride), bn1, relu, conv2 (3x3), bn2,
      downsample.0 (1x1 conv, stride) + downsample.1 (BN) when stride != 1
      or in != planes*exp; out = relu(bn2(conv2(relu(bn1(conv1(x))))) + sc).
    Bottleneck: conv1 (1x1), bn1, relu, conv2 (3x3, stride), bn2, relu,
      conv3 (1x1 -> 4*planes), bn3, downsample.{0,1} as above, relu after
      the addition.
    Keys: conv1.weight, bn1.*, layer1.0.conv1.weight, layer1.0.bn1.*, ...,
      layer1.0.downsample.0.weight, layer1.0.downsample.1.*, ..., fc.weight,
      fc.bias. resnet101 with 1000 classes: 44,549,160 parameters (44.5M).

All constructors are reachable through build(arch, args) where args is the
dict used in manifest.json and weights.json ("num_classes", "nc", "depth",
"alpha", "width", "widen", "growth"); absent keys take the defaults above.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet as tvresnet


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


# --------------------------------------------------------------------- lenet

class LeNet(nn.Module):
    def __init__(self, num_classes=10, nc=1, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(nc, width, kernel_size=5)
        self.conv2 = nn.Conv2d(width, 2 * width, kernel_size=5)
        self.fc1 = nn.Linear(2 * width * 4 * 4, 8 * width)
        self.fc2 = nn.Linear(8 * width, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


# ------------------------------------------------------------ preact resnet

class PreActBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = conv3x3(in_planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False)
            )

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=10, nc=3, width=64):
        super().__init__()
        self.in_planes = width
        self.conv1 = conv3x3(nc, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(block, width, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, num_blocks[3], stride=2)
        self.linear = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.view(out.size(0), -1)
        return self.linear(out)


def preact_resnet18(num_classes=10, nc=3, width=64):
    return PreActResNet(PreActBlock, [2, 2, 2, 2], num_classes=num_classes, nc=nc, width=width)


# --------------------------------------------------------------- pyramidnet

class ShakeDropFunction(torch.autograd.Function):
    """Training-mode ShakeDrop (FMix's, on the input's device instead of CUDA)."""

    @staticmethod
    def forward(ctx, x, p_drop, alpha_range):
        gate = torch.empty(1, device=x.device).bernoulli_(1 - p_drop)
        ctx.save_for_backward(gate)
        if gate.item() == 0:
            alpha = torch.empty(x.size(0), device=x.device).uniform_(*alpha_range)
            return alpha.view(-1, 1, 1, 1).expand_as(x) * x
        return x

    @staticmethod
    def backward(ctx, grad_output):
        gate = ctx.saved_tensors[0]
        if gate.item() == 0:
            beta = torch.empty(grad_output.size(0), device=grad_output.device).uniform_(0, 1)
            return beta.view(-1, 1, 1, 1).expand_as(grad_output) * grad_output, None, None
        return grad_output, None, None


class ShakeDrop(nn.Module):
    def __init__(self, p_drop=0.5, alpha_range=(-1, 1)):
        super().__init__()
        self.p_drop = p_drop
        self.alpha_range = alpha_range

    def forward(self, x):
        if self.training:
            return ShakeDropFunction.apply(x, self.p_drop, self.alpha_range)
        return (1 - self.p_drop) * x


class PyramidBottleneck(nn.Module):
    outchannel_ratio = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, p_shakedrop=1.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn4 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.shake_drop = ShakeDrop(p_shakedrop)

    def forward(self, x):
        out = self.conv1(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(out)))
        out = self.conv3(self.relu(self.bn3(out)))
        out = self.shake_drop(self.bn4(out))
        if self.downsample is not None:
            shortcut = self.downsample(x)
        else:
            shortcut = x
        fh, fw = shortcut.size()[2:4]
        residual_channel = out.size()[1]
        shortcut_channel = shortcut.size()[1]
        if residual_channel != shortcut_channel:
            padding = torch.zeros(out.size()[0], residual_channel - shortcut_channel, fh, fw,
                                  dtype=out.dtype, device=out.device)
            out = out + torch.cat((shortcut, padding), 1)
        else:
            out = out + shortcut
        return out


class PyramidNet(nn.Module):
    def __init__(self, depth=272, alpha=200, num_classes=10, nc=3, bottleneck=True):
        super().__init__()
        if not bottleneck:
            raise ValueError('only the bottleneck PyramidNet is supported')
        n = int((depth - 2) / 9)
        self.inplanes = 16
        self.addrate = alpha / (3 * n * 1.0)
        self.ps_shakedrop = [1. - (1.0 - (0.5 / (3 * n)) * (i + 1)) for i in range(3 * n)]
        self.input_featuremap_dim = self.inplanes
        self.conv1 = nn.Conv2d(nc, self.input_featuremap_dim, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.input_featuremap_dim)
        self.featuremap_dim = self.input_featuremap_dim
        self.layer1 = self._make_layer(n)
        self.layer2 = self._make_layer(n, stride=2)
        self.layer3 = self._make_layer(n, stride=2)
        self.final_featuremap_dim = self.input_featuremap_dim
        self.bn_final = nn.BatchNorm2d(self.final_featuremap_dim)
        self.relu_final = nn.ReLU(inplace=True)
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(self.final_featuremap_dim, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / fan))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
        assert len(self.ps_shakedrop) == 0, self.ps_shakedrop

    def _make_layer(self, block_depth, stride=1):
        block = PyramidBottleneck
        downsample = None
        if stride != 1:
            downsample = nn.AvgPool2d((2, 2), stride=(2, 2), ceil_mode=True)
        layers = []
        self.featuremap_dim = self.featuremap_dim + self.addrate
        layers.append(block(self.input_featuremap_dim, int(round(self.featuremap_dim)), stride, downsample,
                            p_shakedrop=self.ps_shakedrop.pop(0)))
        for _ in range(1, block_depth):
            temp_featuremap_dim = self.featuremap_dim + self.addrate
            layers.append(block(int(round(self.featuremap_dim)) * block.outchannel_ratio,
                                int(round(temp_featuremap_dim)), 1, p_shakedrop=self.ps_shakedrop.pop(0)))
            self.featuremap_dim = temp_featuremap_dim
        self.input_featuremap_dim = int(round(self.featuremap_dim)) * block.outchannel_ratio
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.bn1(self.conv1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.relu_final(self.bn_final(x))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


def pyramidnet(depth=272, alpha=200, num_classes=10, nc=3):
    return PyramidNet(depth=depth, alpha=alpha, num_classes=num_classes, nc=nc, bottleneck=True)


# ---------------------------------------------------------------------- wrn

class WideBasicBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.equalInOut = in_planes == out_planes
        self.convShortcut = None
        if not self.equalInOut:
            self.convShortcut = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, padding=0, bias=False)

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
            out = x
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out)))
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            WideBasicBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
            for i in range(nb_layers)
        ])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth=28, num_classes=10, widen_factor=10, nc=3):
        super().__init__()
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        assert (depth - 4) % 6 == 0, 'depth should be 6n+4'
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(nc, ch[0], kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)
        self.nChannels = ch[3]

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        out = F.avg_pool2d(out, 7)
        out = out.view(-1, self.nChannels)
        return self.fc(out)


def wrn(depth=28, widen=10, num_classes=10, nc=3):
    return WideResNet(depth=depth, num_classes=num_classes, widen_factor=widen, nc=nc)


# ------------------------------------------------------------- densenet-bc

class DenseBottleneck(nn.Module):
    def __init__(self, in_planes, out_planes):
        super().__init__()
        inter = out_planes * 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, inter, kernel_size=1, stride=1, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(inter)
        self.conv2 = nn.Conv2d(inter, out_planes, kernel_size=3, stride=1, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        return torch.cat([x, out], 1)


class Transition(nn.Module):
    def __init__(self, in_planes, out_planes):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv1(self.relu(self.bn1(x))), 2)


class DenseBlock(nn.Module):
    def __init__(self, nb_layers, in_planes, growth):
        super().__init__()
        self.layer = nn.Sequential(*[DenseBottleneck(in_planes + i * growth, growth) for i in range(nb_layers)])

    def forward(self, x):
        return self.layer(x)


class DenseNetBC(nn.Module):
    def __init__(self, depth=190, num_classes=10, growth_rate=40, reduction=0.5, nc=3):
        super().__init__()
        c = 2 * growth_rate
        n = ((depth - 4) // 3) // 2
        self.conv1 = nn.Conv2d(nc, c, kernel_size=3, stride=1, padding=1, bias=False)
        self.block1 = DenseBlock(n, c, growth_rate)
        c = int(c + n * growth_rate)
        self.trans1 = Transition(c, int(math.floor(c * reduction)))
        c = int(math.floor(c * reduction))
        self.block2 = DenseBlock(n, c, growth_rate)
        c = int(c + n * growth_rate)
        self.trans2 = Transition(c, int(math.floor(c * reduction)))
        c = int(math.floor(c * reduction))
        self.block3 = DenseBlock(n, c, growth_rate)
        c = int(c + n * growth_rate)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(c, num_classes)
        self.in_planes = c

    def forward(self, x):
        out = self.conv1(x)
        out = self.trans1(self.block1(out))
        out = self.trans2(self.block2(out))
        out = self.block3(out)
        out = self.relu(self.bn1(out))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.view(-1, self.in_planes)
        return self.fc(out)


def densenet_bc(depth=190, growth=40, num_classes=10, nc=3):
    return DenseNetBC(depth=depth, num_classes=num_classes, growth_rate=growth, nc=nc)


# --------------------------------------------------- torchvision-layout resnet

RESNET_LAYERS = {
    'resnet18': (tvresnet.BasicBlock, [2, 2, 2, 2]),
    'resnet34': (tvresnet.BasicBlock, [3, 4, 6, 3]),
    'resnet50': (tvresnet.Bottleneck, [3, 4, 6, 3]),
    'resnet101': (tvresnet.Bottleneck, [3, 4, 23, 3]),
    'resnet152': (tvresnet.Bottleneck, [3, 8, 36, 3]),
}


class TVResNet(tvresnet.ResNet):
    """torchvision's ResNet with the stem width (64) made a parameter.

    Uses torchvision's own BasicBlock/Bottleneck and _make_layer/forward;
    only __init__ is restated so that the 64 can vary.
    """

    def __init__(self, block, layers, num_classes=1000, nc=3, width=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # torchvision's width_per_group, not our width
        self.conv1 = nn.Conv2d(nc, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


def tv_resnet(arch, num_classes=1000, nc=3, width=64):
    block, layers = RESNET_LAYERS[arch]
    return TVResNet(block, layers, num_classes=num_classes, nc=nc, width=width)


# -------------------------------------------------------------------- build

def build(arch, args):
    """Constructs arch from a manifest/weights.json args dict."""
    a = dict(args)
    nc = a.get('nc', 3)
    if arch == 'lenet':
        return LeNet(num_classes=a.get('num_classes', 10), nc=a.get('nc', 1), width=a.get('width', 8))
    if arch == 'preact_resnet18':
        return preact_resnet18(num_classes=a.get('num_classes', 10), nc=nc, width=a.get('width', 64))
    if arch == 'pyramidnet':
        return pyramidnet(depth=a.get('depth', 272), alpha=a.get('alpha', 200),
                          num_classes=a.get('num_classes', 10), nc=nc)
    if arch == 'wrn':
        return wrn(depth=a.get('depth', 28), widen=a.get('widen', 10), num_classes=a.get('num_classes', 10), nc=nc)
    if arch == 'densenet_bc':
        return densenet_bc(depth=a.get('depth', 190), growth=a.get('growth', 40),
                           num_classes=a.get('num_classes', 10), nc=nc)
    if arch in RESNET_LAYERS:
        return tv_resnet(arch, num_classes=a.get('num_classes', 1000), nc=nc, width=a.get('width', 64))
    raise ValueError('unknown arch %r' % arch)
