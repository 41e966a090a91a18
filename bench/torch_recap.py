#!/usr/bin/env python3
"""PyTorch baseline for `tml bench recap`: the same production Heavy Ranker
architecture (2117 continuous + 59 binary + 3×200 embeddings → DoubleNormLog →
4 parallel MaskBlocks of 1024 → MLP 2048 → 10 towers 256-128-1 with batch norm),
Adam, multi-task BCE, random data, batch 128, on the CPU.

  pip install torch && python3 bench/torch_recap.py [--threads N]

Prints training and inference examples/s and latency at batch 1, 8, 512 in the
same format as `tml bench recap`.
"""
import argparse
import time
import torch

TASKS = 10


def xavier(m):
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.zeros_(m.bias)


class MaskBlock(torch.nn.Module):
    def __init__(self, d, agg, out):
        super().__init__()
        self._mask_layer = torch.nn.Sequential(torch.nn.Linear(d, agg), torch.nn.ReLU(), torch.nn.Linear(agg, d))
        self._hidden_layer = torch.nn.Linear(d, out)
        self._layer_norm = torch.nn.LayerNorm(out)

    def forward(self, x):
        return self._layer_norm(self._hidden_layer(x * self._mask_layer(x)))


# Towers with dropout in recap_local_prod.yaml: is_negative_feedback_v2 (index 3) and
# is_report_tweet_clicked (index 7).
DROPOUT = {3: 0.1, 7: 0.2}


class Ranker(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(2117, momentum=0.01)
        self.ln = torch.nn.LayerNorm(2117 + 59, eps=0.0)
        self.emb_ln = torch.nn.ModuleList([torch.nn.LayerNorm(200) for _ in range(3)])
        d = 2117 + 59 + 600
        self.blocks = torch.nn.ModuleList([MaskBlock(d, 1024, 1024) for _ in range(4)])
        self.mlp = torch.nn.Sequential(torch.nn.Linear(4096, 2048), torch.nn.ReLU())
        towers = []
        for t in range(TASKS):
            mods = [torch.nn.Linear(2048, 256), torch.nn.BatchNorm1d(256, affine=False), torch.nn.ReLU()]
            if t in DROPOUT:
                mods.append(torch.nn.Dropout(DROPOUT[t]))
            mods += [torch.nn.Linear(256, 128), torch.nn.BatchNorm1d(128, affine=False), torch.nn.ReLU()]
            if t in DROPOUT:
                mods.append(torch.nn.Dropout(DROPOUT[t]))
            mods.append(torch.nn.Linear(128, 1))
            towers.append(torch.nn.Sequential(*mods))
        self.towers = torch.nn.ModuleList(towers)
        self.apply(xavier)

    def forward(self, c, b, e1, e2, e3):
        x = torch.where(torch.isfinite(c), c, torch.zeros_like(c))
        x = torch.clamp(self.bn(torch.sign(x) * torch.log1p(torch.abs(x))), -5.0, 5.0)
        x = self.ln(torch.cat([x, b], 1))
        h = torch.cat([x, self.emb_ln[0](e1), self.emb_ln[1](e2), self.emb_ln[2](e3)], 1)
        net = self.mlp(torch.cat([blk(h) for blk in self.blocks], 1))
        return torch.cat([t(net) for t in self.towers], 1)


def inputs(n):
    return (torch.randn(n, 2117) * 3, (torch.rand(n, 59) < 0.3).float(), torch.randn(n, 200), torch.randn(n, 200),
            torch.randn(n, 200))


def median_time(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Ranker()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.95, 0.999), eps=1e-7)
    x = inputs(128)
    labels = (torch.rand(128, TASKS) < 0.2).float()
    weights = torch.ones(128, TASKS)

    def train_step():
        opt.zero_grad()
        logits = model(*x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, weight=weights)
        loss.backward()
        opt.step()

    model.train()
    train = median_time(train_step, 3, args.repeats)
    model.eval()

    def forward(i):
        with torch.no_grad():
            model(*i)

    infer = median_time(lambda: forward(x), 3, args.repeats)
    print(f"PyTorch {torch.__version__} Heavy Ranker benchmark — production architecture, "
          f"{sum(p.numel() for p in model.parameters())} parameters, {torch.get_num_threads()} threads")
    print(f"  training  (fwd + loss + bwd + Adam), batch 128: {128 / train:8.1f} examples/s")
    print(f"  inference (eval forward),           batch 128: {128 / infer:8.1f} examples/s")
    for n in (1, 8, 512):
        i = inputs(n)
        reps = max(args.repeats // 4, 3) if n >= 512 else args.repeats * 4
        print(f"  inference latency, batch {n:4d}: {median_time(lambda: forward(i), 2, reps) * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
