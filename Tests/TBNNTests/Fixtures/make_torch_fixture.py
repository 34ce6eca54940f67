#!/usr/bin/env python3
"""Makes torch_resnets.safetensors: the proof that tb's engine computes what PyTorch computes.

Two small networks laid out exactly as tb builds them, with torchvision's parameter
names: r3d10:w4 (R3D stem, 3D BasicBlocks, strides 1,2,2,2 on every axis) and
r2d10:w4 (torchvision's ResNet with [1,1,1,1] BasicBlocks). For each, in train mode
(batch-norm batch statistics) on a fixed input batch and labels, the file holds
  <net>.<param>            the weights and buffers before the step
  <net>.input / .labels    the batch
  <net>.logits, <net>.loss cross-entropy logits and mean loss
  <net>.grad.<param>       the parameter gradients
  <net>.after.<buffer>     running mean/var after the forward pass
Run once (python3 -m venv v && v/bin/pip install torch safetensors numpy), commit the output.
"""
import torch, torch.nn as nn
from safetensors.torch import save_file

class Block(nn.Module):
    def __init__(self, conv, bn, cin, cout, stride, k):
        super().__init__()
        self.conv1 = conv(cin, cout, k, stride, 1, bias=False); self.bn1 = bn(cout)
        self.conv2 = conv(cout, cout, k, 1, 1, bias=False); self.bn2 = bn(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(conv(cin, cout, 1, stride, bias=False), bn(cout))
    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))

class ResNet(nn.Module):
    def __init__(self, three_d, width, classes, blocks=(1, 1, 1, 1)):
        super().__init__()
        conv, bn = (nn.Conv3d, nn.BatchNorm3d) if three_d else (nn.Conv2d, nn.BatchNorm2d)
        if three_d:
            self.conv1 = conv(3, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = conv(3, width, 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = bn(width)
        cin = width
        for i, n in enumerate(blocks):
            cout = width * 2 ** i
            stride = 1 if i == 0 else 2
            layer = [Block(conv, bn, cin if j == 0 else cout, cout, stride if j == 0 else 1, 3) for j in range(n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer)); cin = cout
        self.fc = nn.Linear(cin, classes)
    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        for i in range(4): x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(x.mean(dim=tuple(range(2, x.dim()))))

def case(name, three_d, shape, out):
    torch.manual_seed(7)
    net = ResNet(three_d, 4, 5).train()
    with torch.no_grad():  # non-trivial batch-norm parameters and running stats
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.8, 1.2)
    for k, v in net.state_dict().items(): out[f"{name}.{k}"] = v.clone()
    x = torch.randn(*shape); y = torch.tensor([0, 3, 1][: shape[0]])
    logits = net(x); loss = nn.functional.cross_entropy(logits, y); loss.backward()
    out[f"{name}.input"] = x; out[f"{name}.labels"] = y.to(torch.int64)
    out[f"{name}.logits"] = logits.detach(); out[f"{name}.loss"] = loss.detach().reshape(1)
    for k, p in net.named_parameters(): out[f"{name}.grad.{k}"] = p.grad.clone()
    for k, v in net.state_dict().items():
        if "running" in k: out[f"{name}.after.{k}"] = v.clone()

out = {}
case("r3d", True, (3, 3, 4, 24, 24), out)
case("r2d", False, (3, 3, 32, 32), out)
save_file({k: v.contiguous() for k, v in out.items()}, "torch_resnets.safetensors",
          metadata={"made_by": "make_torch_fixture.py", "torch": torch.__version__})
