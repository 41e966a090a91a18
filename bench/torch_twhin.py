#!/usr/bin/env python3
"""TwHIN training throughput in plain PyTorch on CPU — the baseline for `tml bench twhin`.

The same corrected model as SwiftTML's (docs/twhin.md): score s = <e_u, e_v + t_r>, per
relation S in-batch negatives on each side (the original's randperm(R).repeat(...)[:S])
scored with the translation applied, G global negatives per side drawn uniformly from the
tables, BCE-with-logits with positives labelled 1 (weight 1) and negatives labelled 0
(weight B/N), trained translations. Tables are nn.Embedding(sparse=True) with sparse
gradients; the optimizer is SGD (torch.optim.SGD, sparse) or row-wise Adagrad (one
accumulator per row, written with index_add_ on the coalesced sparse gradient, as
FBGEMM's EXACT_ROWWISE_ADAGRAD). Random edges (uniform user, tweet, relation), as the
Swift benchmark.

    python3 bench/torch_twhin.py --shape local
    python3 bench/torch_twhin.py --shape large --user-rows 10000000 --tweet-rows 10000000

Prints, in the format of `tml bench twhin`:
    twhin local: tables 424241 + 72543 rows, dim 4, batch 500, 10 in-batch + 0 global negatives, sgd: N edges/s (M ms/step)
"""
import argparse
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = {
    "local": dict(dim=4, optimizer="sgd"),
    "large": dict(dim=200, optimizer="rowwise_adagrad"),
}
RELATIONS = 4  # fav, reply, retweet, magic_recs: user -> tweet


class RowWiseAdagrad:
    """G[r] += mean_j g[r, j]^2;  W[r] -= lr * g[r] / (sqrt(G[r]) + eps), on the touched rows."""

    def __init__(self, weight, lr, eps=1e-8):
        self.weight, self.lr, self.eps = weight, lr, eps
        self.state = torch.zeros(weight.shape[0])

    @torch.no_grad()
    def step(self):
        g = self.weight.grad.coalesce()
        rows, values = g.indices()[0], g.values()
        self.state.index_add_(0, rows, values.pow(2).mean(1))
        scale = -self.lr / (self.state[rows].sqrt() + self.eps)
        self.weight.index_add_(0, rows, values * scale.unsqueeze(1))

    def zero_grad(self):
        self.weight.grad = None


class SparseSGD:
    def __init__(self, weight, lr):
        self.opt = torch.optim.SGD([weight], lr=lr)

    def step(self):
        self.opt.step()

    def zero_grad(self):
        self.opt.zero_grad(set_to_none=True)


def table(rows, dim):
    e = torch.nn.Embedding(rows, dim, sparse=True, _weight=torch.empty(rows, dim))
    bound = math.sqrt(1.0 / rows)  # torchrec's default init
    with torch.no_grad():
        e.weight.uniform_(-bound, bound)
    return e


def in_batch(count, s):
    perm = torch.randperm(count)
    return perm.repeat(math.ceil(s / count))[:s]


def loss_fn(user, tweet, trans, lhs, rel, rhs, s, g):
    b = lhs.shape[0]
    u, v = user(lhs), tweet(rhs)
    t = trans[rel]
    pos = (u * (v + t)).sum(-1)
    negs = []
    for r in range(RELATIONS):
        idx = (rel == r).nonzero().squeeze(1)
        count = idx.shape[0]
        if count == 0:
            continue
        lm, vm, tr = u[idx], v[idx], trans[r]
        lc, rc = [], []
        if s:
            lc.append(lm[in_batch(count, s)])
            rc.append(vm[in_batch(count, s)])
        if g:
            lc.append(user(torch.randint(user.num_embeddings, (g,))))
            rc.append(tweet(torch.randint(tweet.num_embeddings, (g,))))
        if lc:
            negs.append(((vm + tr) @ torch.cat(lc).t()).flatten())  # each rhs vs lhs candidates
            negs.append((lm @ (torch.cat(rc) + tr).t()).flatten())  # each lhs vs rhs candidates
    n = sum(x.shape[0] for x in negs)
    logits = torch.cat([pos, *negs])
    labels = torch.cat([torch.ones(b), torch.zeros(n)])
    weights = torch.cat([torch.ones(b), torch.full((n,), b / max(n, 1))])
    return F.binary_cross_entropy_with_logits(logits, labels, weights)


def run(name, user_rows, tweet_rows, dim, optimizer, batch, s, g, steps, warmup):
    torch.manual_seed(1)
    t0 = time.perf_counter()
    user, tweet = table(user_rows, dim), table(tweet_rows, dim)
    trans = torch.nn.Parameter(torch.rand(RELATIONS, dim))
    init = time.perf_counter() - t0
    if optimizer == "sgd":
        opts = [SparseSGD(user.weight, 0.01), SparseSGD(tweet.weight, 0.005)]
    else:
        opts = [RowWiseAdagrad(user.weight, 0.01), RowWiseAdagrad(tweet.weight, 0.005)]
    topt = torch.optim.SGD([trans], lr=0.05)
    gen = torch.Generator().manual_seed(3)
    pool = [(torch.randint(user_rows, (batch,), generator=gen), torch.randint(RELATIONS, (batch,), generator=gen),
             torch.randint(tweet_rows, (batch,), generator=gen)) for _ in range(64)]

    def step(i):
        lhs, rel, rhs = pool[i % len(pool)]
        for o in opts:
            o.zero_grad()
        topt.zero_grad(set_to_none=True)
        loss = loss_fn(user, tweet, trans, lhs, rel, rhs, s, g)
        loss.backward()
        for o in opts:
            o.step()
        topt.step()

    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    seconds = time.perf_counter() - start
    table_bytes = (user_rows + tweet_rows) * dim * 4
    state_bytes = 0 if optimizer == "sgd" else (user_rows + tweet_rows) * 4
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"twhin {name}: tables {user_rows} + {tweet_rows} rows, dim {dim}, batch {batch}, {s} in-batch + {g} global negatives, "
          f"{optimizer}: {steps * batch / seconds:.0f} edges/s ({seconds / steps * 1e3:.3f} ms/step)")
    print(f"  init {init:.1f} s; tables {table_bytes / 1e6:.1f} MB + optimizer state {state_bytes / 1e6:.1f} MB; "
          f"peak RSS {peak / 1e6:.1f} MB = {peak / (table_bytes + state_bytes):.3f} x (tables + state)  [torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads]")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", choices=["local", "large"], default="local")
    p.add_argument("--user-rows", type=int, default=10_000_000)
    p.add_argument("--tweet-rows", type=int, default=10_000_000)
    p.add_argument("--steps", type=int)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--in-batch-negatives", type=int, default=10)
    p.add_argument("--global-negatives", type=int, default=0)
    p.add_argument("--threads", type=int)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    shape = SHAPES[a.shape]
    rows = (424_241, 72_543) if a.shape == "local" else (a.user_rows, a.tweet_rows)
    steps = a.steps or (200 if shape["dim"] > 100 else 2000)
    run(a.shape, rows[0], rows[1], shape["dim"], shape["optimizer"], a.batch, a.in_batch_negatives, a.global_negatives, steps, warmup=20)


if __name__ == "__main__":
    main()
