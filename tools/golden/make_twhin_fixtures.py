#!/usr/bin/env python3
"""Golden fixtures for the TwHIN parity test.

Implements, in plain PyTorch (no torchrec), the TwHIN objective with the original's
four defects corrected:

  score      s(u, r, v) = <e_u, e_v + t_r>                (translation operator, dot comparator)
  negatives  per relation r present in the batch (R edges, lhs block L, rhs block V):
               lhs candidates C_l = L[lhs_in_batch] ++ E_lhs[lhs_global]       (K_l rows)
               rhs candidates C_r = V[rhs_in_batch] ++ E_rhs[rhs_global]       (K_r rows)
               lhs-side negatives (V + t_r) @ C_l^T    [R, K_l]   (translation applied)
               rhs-side negatives L @ (C_r + t_r)^T    [R, K_r]   (translation applied)
  logits     [positives in batch order, then per present relation ascending:
              lhs-side negatives (flattened), rhs-side negatives (flattened)]
  labels     1 for positives, 0 for negatives                  (the original uses 1)
  weights    1 for positives, B / N for negatives, N = number of negatives
  loss       binary_cross_entropy_with_logits(logits, labels, weights), mean
  gradients  flow to both tables and to the translations      (the original detaches t_r)

The negatives are FIXED (drawn here once and stored) so the Swift side scores exactly
the same pairs. One optimiser step is also recorded: SGD on the tables and the
translations, and row-wise Adagrad (fbgemm EXACT_ROWWISE_ADAGRAD) on the tables.

Writes Tests/Fixtures/twhin/twhin_golden.safetensors with

  state.<name>                 the state dict (`all_trans_embs`, `large_embeddings.ebc.embedding_bags.<t>.weight`)
  batch.lhs / batch.rel / batch.rhs                         int64 [B]
  neg.<r>.lhs_in_batch / rhs_in_batch / lhs_global / rhs_global   int64, per present relation r
  logits, labels, weights, loss
  grad.<name>                  gradient of loss w.r.t. each state entry (dense)
  sgd.<name>                   state after one SGD step (tables lr 0.1 / 0.2, translations lr 0.05)
  rowwise.<name>               tables after one row-wise Adagrad step (lr 0.3, eps 1e-8)

Metadata: one entry "twhin", a JSON object with the tables, relations, negatives counts and learning rates.
The output is byte-for-byte reproducible for a given torch version.

Regenerate:  pip install torch safetensors numpy && python3 tools/golden/make_twhin_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "twhin")

DIM = 4
TABLES = [("user", 9), ("tweet", 8), ("author", 5)]
# (name, lhs, rhs); relation 3 has no edge in the batch, relation 1 maps a table to itself.
RELATIONS = [("fav", "user", "tweet"), ("follow", "user", "user"), ("authored_by", "tweet", "author"), ("reply", "user", "tweet")]
IN_BATCH, GLOBAL = 3, 2
SGD_LR = {"user": 0.1, "tweet": 0.2, "author": 0.2}
TRANS_LR = 0.05
ROWWISE_LR, ROWWISE_EPS = 0.3, 1e-8


def key(table):
    return f"large_embeddings.ebc.embedding_bags.{table}.weight"


def main():
    g = torch.Generator().manual_seed(20240611)
    tindex = {name: i for i, (name, _) in enumerate(TABLES)}
    sizes = dict(TABLES)
    weights = {name: (torch.randn(n, DIM, generator=g) * 0.5).requires_grad_() for name, n in TABLES}
    trans = torch.rand(len(RELATIONS), DIM, generator=g).requires_grad_()

    # A batch with repeated ids (gradients must accumulate) and one single-edge relation.
    rel = torch.tensor([0, 1, 0, 2, 0, 1, 0, 2, 2, 0], dtype=torch.int64)
    lhs, rhs = [], []
    for r in rel.tolist():
        _, a, b = RELATIONS[r]
        lhs.append(int(torch.randint(sizes[a], (1,), generator=g)))
        rhs.append(int(torch.randint(sizes[b], (1,), generator=g)))
    lhs[4] = lhs[0]  # same user twice in relation 0
    rhs[6] = rhs[2]  # same tweet twice
    lhs_t, rhs_t = torch.tensor(lhs), torch.tensor(rhs)
    B = len(rel)

    negs = {}
    for r in range(len(RELATIONS)):
        count = int((rel == r).sum())
        if count == 0:
            continue
        _, a, b = RELATIONS[r]
        # the original's randperm(R).repeat(ceil(S / R))[:S]
        reps = -(-IN_BATCH // count)
        negs[r] = {
            "lhs_in_batch": torch.randperm(count, generator=g).repeat(reps)[:IN_BATCH],
            "rhs_in_batch": torch.randperm(count, generator=g).repeat(reps)[:IN_BATCH],
            "lhs_global": torch.randint(sizes[a], (GLOBAL,), generator=g),
            "rhs_global": torch.randint(sizes[b], (GLOBAL,), generator=g),
        }

    def forward():
        pos = torch.empty(B)
        parts = []
        pos_list = []
        for r in sorted(negs):
            _, a, b = RELATIONS[r]
            mask = rel == r
            L = weights[a][lhs_t[mask]]
            V = weights[b][rhs_t[mask]]
            t = trans[r]
            pos_list.append((mask, (L * (V + t)).sum(-1)))
            n = negs[r]
            cl = torch.cat([L[n["lhs_in_batch"]], weights[a][n["lhs_global"]]])
            cr = torch.cat([V[n["rhs_in_batch"]], weights[b][n["rhs_global"]]])
            parts.append(((V + t) @ cl.t()).flatten())
            parts.append((L @ (cr + t).t()).flatten())
        pos = torch.zeros(B)
        for mask, p in pos_list:
            pos = pos.masked_scatter(mask, p)
        return torch.cat([pos, *parts])

    logits = forward()
    num_neg = logits.numel() - B
    labels = torch.cat([torch.ones(B), torch.zeros(num_neg)])
    w = torch.cat([torch.ones(B), torch.full((num_neg,), B / num_neg)])
    loss = F.binary_cross_entropy_with_logits(logits, labels, w)
    loss.backward()

    out = {
        "batch.lhs": lhs_t, "batch.rel": rel, "batch.rhs": rhs_t,
        "logits": logits.detach(), "labels": labels, "weights": w, "loss": loss.detach().reshape(()),
        "state.all_trans_embs": trans.detach().clone(), "grad.all_trans_embs": trans.grad.clone(),
        "sgd.all_trans_embs": (trans - TRANS_LR * trans.grad).detach(),
    }
    for r, n in negs.items():
        for k, v in n.items():
            out[f"neg.{r}.{k}"] = v.to(torch.int64).contiguous()
    for name, W in weights.items():
        grad = W.grad.clone()
        out["state." + key(name)] = W.detach().clone()
        out["grad." + key(name)] = grad
        out["sgd." + key(name)] = (W - SGD_LR[name] * grad).detach()
        # row-wise Adagrad from a zero accumulator, touched rows only (= rows with a lookup).
        touched = torch.zeros(W.shape[0], dtype=torch.bool)
        for r, (_, a, b) in enumerate(RELATIONS):
            if r not in negs:
                continue
            mask = rel == r
            if a == name:
                touched[lhs_t[mask]] = True
                touched[negs[r]["lhs_global"]] = True
            if b == name:
                touched[rhs_t[mask]] = True
                touched[negs[r]["rhs_global"]] = True
        acc = (grad ** 2).mean(dim=1)
        step = ROWWISE_LR * grad / (acc.sqrt() + ROWWISE_EPS)[:, None]
        out["rowwise." + key(name)] = torch.where(touched[:, None], W.detach() - step, W.detach())

    # One metadata entry (a sorted JSON object): safetensors stores metadata in a hash
    # map, so several entries would come out in a different order on every run.
    meta = {"twhin": json.dumps({
        "tables": TABLES, "relations": RELATIONS, "dim": DIM,
        "in_batch_negatives": IN_BATCH, "global_negatives": GLOBAL,
        "sgd_lr": SGD_LR, "translation_lr": TRANS_LR,
        "rowwise_lr": ROWWISE_LR, "rowwise_eps": ROWWISE_EPS,
    }, sort_keys=True)}
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "twhin_golden.safetensors")
    save_file({k: v.contiguous() for k, v in out.items()}, path, metadata=meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), loss {loss.item():.6f}, {num_neg} negatives")


if __name__ == "__main__":
    main()
