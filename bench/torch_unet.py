#!/usr/bin/env python3
"""PyTorch eager reference for `fairmark bench`: the same U-Net (double 3x3
conv + batch norm + ReLU per level, max pooling, nearest upsampling with skip
concatenation, 1x1 head), the same spatial cross-entropy loss and Adam, the
same shapes. Prints images/s and one JSON line, like `fairmark bench`.

    python3 bench/torch_unet.py train --size 512 --batch 8 --width 16 --depth 4 --keypoints 10
    python3 bench/torch_unet.py infer --size 512 --batch 8
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


class UNet(nn.Module):
    def __init__(self, k, width=16, depth=4):
        super().__init__()
        w = [width << l for l in range(depth + 1)]
        self.enc = nn.ModuleList([DoubleConv(1 if l == 0 else w[l - 1], w[l]) for l in range(depth)])
        self.bottleneck = DoubleConv(w[depth - 1], w[depth])
        self.dec = nn.ModuleList([DoubleConv(w[l + 1] + w[l], w[l]) for l in reversed(range(depth))])
        self.head = nn.Conv2d(width, k, 1)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for block, skip in zip(self.dec, reversed(skips)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], 1))
        return self.head(x)


def spatial_ce(logits, target):
    b, k, h, w = logits.shape
    logp = F.log_softmax(logits.reshape(b, k, h * w), dim=2)
    t = target.reshape(b, k, h * w)
    t = t / t.sum(2, keepdim=True).clamp_min(1e-12)
    return -(t * logp).sum(2).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "infer"])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--keypoints", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    torch.manual_seed(0)
    dev = torch.device(a.device)
    model = UNet(a.keypoints, a.width, a.depth).to(dev)
    x = torch.rand(a.batch, 1, a.size, a.size, device=dev)
    target = torch.rand(a.batch, a.keypoints, a.size, a.size, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        if a.mode == "train":
            model.train()
            opt.zero_grad(set_to_none=True)
            loss = spatial_ce(model(x), target)
            loss.backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                model(x)
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(a.warmup):
        step()
    t = time.perf_counter()
    for _ in range(a.iters):
        step()
    s = time.perf_counter() - t
    ips = a.iters * a.batch / s
    # Peak host memory (ru_maxrss is KiB on Linux), and on CUDA the device's.
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_dev = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None
    print(f"torch eager {a.mode}: {ips:.2f} images/s ({a.size}x{a.size}, batch {a.batch}, {dev}, "
          f"{torch.get_num_threads()} threads); peak RSS {peak_rss:.0f} MiB")
    print(json.dumps({"bench": a.mode, "impl": "torch-eager", "device": str(dev), "size": a.size, "batch": a.batch,
                      "width": a.width, "depth": a.depth, "keypoints": a.keypoints, "iters": a.iters,
                      "images_per_s": ips, "peak_rss_mib": peak_rss, "peak_device_mib": peak_dev,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
