#!/usr/bin/env python3
"""Generate the PyTorch golden fixtures for SwiftTML's foundation layers.

Writes small safetensors files into ``Tests/Fixtures/foundation/`` (relative to
the repository root, found from this script's own location). The Swift tests
read these files and compare their own forward/backward/optimizer results with
PyTorch's.

Files written (see tools/golden/README.md for the key lists):

  linear, layernorm, batchnorm_train, batchnorm_eval, batchnorm_noaffine_train,
  dropout_eval, mlp_train, mlp_eval, bce, optim_sgd, optim_adam, optim_adamw,
  optim_adagrad, embedding_bag, dtypes  (each ``<name>.safetensors``)

Regenerate (CPU only, no GPU needed):

    pip install torch safetensors numpy
    python3 tools/golden/make_foundation_fixtures.py

The script is deterministic and idempotent: every fixture seeds its own RNG
with ``torch.manual_seed``, everything runs in float32 on the CPU with a single
thread, and re-running overwrites the files with identical contents (for the
same torch version).
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "Tests" / "Fixtures" / "foundation"


def _save(name: str, tensors: dict, metadata: dict | None = None) -> None:
    clean = {}
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name}: {k} is not a tensor")
        clean[k] = v.detach().cpu().clone().contiguous()
    path = OUT_DIR / f"{name}.safetensors"
    save_file(clean, str(path), metadata=metadata)
    if metadata and len(metadata) > 1:
        _sort_metadata(path)


def _sort_metadata(path: Path) -> None:
    """Rewrite the header with the metadata keys sorted.

    safetensors stores ``__metadata__`` in a hash map, so its key order (and
    thus the file's bytes) changes from run to run. Reordering the keys keeps
    the header the same length, so the data offsets stay valid; this makes the
    files byte-for-byte reproducible.
    """
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    text = raw[8:8 + n].decode("utf-8")
    stripped = text.rstrip(" ")
    header = json.loads(stripped)
    if json.dumps(header, separators=(",", ":")) != stripped:
        return  # unexpected formatting; leave the file as save_file wrote it
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    new = json.dumps(header, separators=(",", ":"))
    assert len(new) == len(stripped)
    new_bytes = (new + text[len(stripped):]).encode("utf-8")
    assert len(new_bytes) == n
    path.write_bytes(raw[:8] + new_bytes + raw[8 + n:])


def _seed(s: int) -> None:
    torch.manual_seed(s)


# --------------------------------------------------------------------------- #
# 1. Linear
# --------------------------------------------------------------------------- #
def make_linear() -> None:
    _seed(1)
    lin = nn.Linear(5, 3)
    x = torch.randn(4, 5, requires_grad=True)
    g = torch.randn(4, 3)
    y = lin(x)
    y.backward(g)
    _save("linear", {
        "weight": lin.weight, "bias": lin.bias,
        "input": x, "grad_output": g, "output": y,
        "grad_input": x.grad, "grad_weight": lin.weight.grad, "grad_bias": lin.bias.grad,
    })


# --------------------------------------------------------------------------- #
# 2. LayerNorm
# --------------------------------------------------------------------------- #
def make_layernorm() -> None:
    _seed(2)
    ln = nn.LayerNorm(6, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(torch.randn(6))
        ln.bias.copy_(torch.randn(6))
    x = (torch.randn(4, 6) * 3 + 1).requires_grad_(True)
    g = torch.randn(4, 6)
    y = ln(x)
    y.backward(g)
    _save("layernorm", {
        "weight": ln.weight, "bias": ln.bias,
        "input": x, "grad_output": g, "output": y,
        "grad_input": x.grad, "grad_weight": ln.weight.grad, "grad_bias": ln.bias.grad,
    })


# --------------------------------------------------------------------------- #
# 3-5. BatchNorm1d
# --------------------------------------------------------------------------- #
def _randomise_bn(bn: nn.BatchNorm1d, affine: bool = True) -> None:
    n = bn.num_features
    with torch.no_grad():
        if affine:
            bn.weight.copy_(torch.randn(n))
            bn.bias.copy_(torch.randn(n))
        bn.running_mean.copy_(torch.randn(n))
        bn.running_var.copy_(torch.rand(n) + 0.5)


def make_batchnorm_train() -> None:
    _seed(3)
    bn = nn.BatchNorm1d(5, momentum=0.1)
    _randomise_bn(bn)
    bn.train()
    rm0 = bn.running_mean.clone()
    rv0 = bn.running_var.clone()
    x = (torch.randn(8, 5) * 2 + 0.5).requires_grad_(True)
    g = torch.randn(8, 5)
    y = bn(x)
    y.backward(g)
    _save("batchnorm_train", {
        "weight": bn.weight, "bias": bn.bias,
        "running_mean_before": rm0, "running_var_before": rv0,
        "input": x, "grad_output": g, "output": y,
        "grad_input": x.grad, "grad_weight": bn.weight.grad, "grad_bias": bn.bias.grad,
        "running_mean_after": bn.running_mean, "running_var_after": bn.running_var,
        "num_batches_tracked_after": bn.num_batches_tracked.reshape([]).to(torch.int64),
    })


def make_batchnorm_eval() -> None:
    _seed(4)
    bn = nn.BatchNorm1d(5, momentum=0.1)
    _randomise_bn(bn)
    bn.eval()
    x = (torch.randn(8, 5) * 2 + 0.5).requires_grad_(True)
    g = torch.randn(8, 5)
    y = bn(x)
    y.backward(g)
    _save("batchnorm_eval", {
        "weight": bn.weight, "bias": bn.bias,
        "running_mean": bn.running_mean, "running_var": bn.running_var,
        "input": x, "grad_output": g, "output": y,
        "grad_input": x.grad, "grad_weight": bn.weight.grad, "grad_bias": bn.bias.grad,
    })


def make_batchnorm_noaffine_train() -> None:
    _seed(5)
    bn = nn.BatchNorm1d(5, affine=False, momentum=0.3)
    _randomise_bn(bn, affine=False)
    bn.train()
    rm0 = bn.running_mean.clone()
    rv0 = bn.running_var.clone()
    x = (torch.randn(8, 5) * 2 + 0.5).requires_grad_(True)
    g = torch.randn(8, 5)
    y = bn(x)
    y.backward(g)
    _save("batchnorm_noaffine_train", {
        "running_mean_before": rm0, "running_var_before": rv0,
        "input": x, "grad_output": g, "output": y, "grad_input": x.grad,
        "running_mean_after": bn.running_mean, "running_var_after": bn.running_var,
    })


# --------------------------------------------------------------------------- #
# 6. Dropout (eval)
# --------------------------------------------------------------------------- #
def make_dropout_eval() -> None:
    _seed(6)
    d = nn.Dropout(0.4).eval()
    x = torch.randn(3, 7)
    y = d(x)
    _save("dropout_eval", {"input": x, "output": y})


# --------------------------------------------------------------------------- #
# 7-8. MLP (mirrors tml/projects/home/recap/model/mlp.py)
# --------------------------------------------------------------------------- #
def _init_weights(module: nn.Module) -> None:
    # Same as the original Twitter Mlp's _init_weights.
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        nn.init.constant_(module.bias, 0)


class Mlp(nn.Module):
    def __init__(self, modules: list) -> None:
        super().__init__()
        self.layers = nn.ModuleList(modules)
        self.layers.apply(_init_weights)

    def forward(self, x):
        net = x
        shared_layer = None
        for i, layer in enumerate(self.layers):
            net = layer(net)
            if i == 1:  # as in the original: activations after the first BN
                shared_layer = net
        return {"output": net, "shared_layer": shared_layer}


def _state_before(model: nn.Module) -> dict:
    return {f"state.{k}": v.detach().clone() for k, v in model.state_dict().items()}


def make_mlp_train() -> None:
    _seed(7)
    model = Mlp([
        nn.Linear(6, 8), nn.BatchNorm1d(8, momentum=0.1), nn.ReLU(),
        nn.Linear(8, 4), nn.BatchNorm1d(4, momentum=0.1), nn.ReLU(),
        nn.Linear(4, 1),
    ])
    for m in model.layers:
        if isinstance(m, nn.BatchNorm1d):
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.num_features))
                m.bias.copy_(torch.randn(m.num_features))
    model.train()
    tensors = _state_before(model)
    x = torch.randn(10, 6, requires_grad=True)
    g = torch.randn(10, 1)
    out = model(x)
    out["output"].backward(g)
    tensors.update({
        "input": x, "grad_output": g, "output": out["output"],
        "shared_layer": out["shared_layer"], "grad_input": x.grad,
    })
    for name, p in model.named_parameters():
        tensors[f"grad.{name}"] = p.grad
    for name, b in model.named_buffers():
        tensors[f"after.{name}"] = b
    _save("mlp_train", tensors)


def make_mlp_eval() -> None:
    _seed(8)
    model = Mlp([
        nn.Linear(6, 8), nn.BatchNorm1d(8, momentum=0.1), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(8, 4), nn.BatchNorm1d(4, momentum=0.1), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(4, 1),
    ])
    for m in model.layers:
        if isinstance(m, nn.BatchNorm1d):
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.randn(n))
                m.bias.copy_(torch.randn(n))
                m.running_mean.copy_(torch.randn(n))
                m.running_var.copy_(torch.rand(n) + 0.5)
                m.num_batches_tracked.fill_(17)
    model.eval()
    tensors = _state_before(model)
    x = torch.randn(10, 6)
    with torch.no_grad():
        out = model(x)
    tensors.update({"input": x, "output": out["output"], "shared_layer": out["shared_layer"]})
    _save("mlp_eval", tensors)


# --------------------------------------------------------------------------- #
# 9. BCE with logits
# --------------------------------------------------------------------------- #
def make_bce() -> None:
    _seed(9)
    z = torch.randn(6, 3) * 3
    z[0, 0] = 50.0
    z[1, 1] = -50.0
    z[2, 2] = 1e4
    z[3, 0] = -1e4
    z[4, 1] = 1e4
    z[5, 2] = -1e4
    y = (torch.rand(6, 3) > 0.5).to(torch.float32)
    # make sure every extreme value is paired with both "right" and "wrong" labels
    y[0, 0], y[1, 1], y[2, 2], y[3, 0], y[4, 1], y[5, 2] = 1.0, 1.0, 0.0, 0.0, 1.0, 1.0
    w = torch.rand(6, 3) + 0.5
    pw = torch.tensor([1.0, 2.5, 0.3])

    loss_none = F.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pw, reduction="none")

    zm = z.clone().requires_grad_(True)
    loss_mean = F.binary_cross_entropy_with_logits(zm, y, weight=w, pos_weight=pw, reduction="mean")
    loss_mean.backward()

    zs = z.clone().requires_grad_(True)
    loss_sum = F.binary_cross_entropy_with_logits(zs, y, weight=w, pos_weight=pw, reduction="sum")
    loss_sum.backward()

    zp = z.clone().requires_grad_(True)
    loss_plain = F.binary_cross_entropy_with_logits(zp, y, reduction="mean")
    loss_plain.backward()

    _save("bce", {
        "logits": z, "labels": y, "weight": w, "pos_weight": pw,
        "loss_none": loss_none,
        "loss_mean": loss_mean.reshape([]), "loss_sum": loss_sum.reshape([]),
        "grad_logits_mean": zm.grad, "grad_logits_sum": zs.grad,
        "loss_mean_plain": loss_plain.reshape([]), "grad_logits_mean_plain": zp.grad,
    })


# --------------------------------------------------------------------------- #
# 10. Optimizers
# --------------------------------------------------------------------------- #
def _make_optim_fixture(name: str, seed: int, make_opt, metadata: dict) -> None:
    _seed(seed)
    p0 = nn.Parameter(torch.randn(3, 4))
    p1 = nn.Parameter(torch.randn(4))
    grads = [(torch.randn(3, 4), torch.randn(4)) for _ in range(3)]
    opt = make_opt([p0, p1])
    tensors = {"initial.p0": p0.detach().clone(), "initial.p1": p1.detach().clone()}
    for k, (g0, g1) in enumerate(grads):
        tensors[f"grad.{k}.p0"] = g0
        tensors[f"grad.{k}.p1"] = g1
        p0.grad = g0.clone()
        p1.grad = g1.clone()
        opt.step()
        tensors[f"after.{k}.p0"] = p0.detach().clone()
        tensors[f"after.{k}.p1"] = p1.detach().clone()
    for pname, p in (("p0", p0), ("p1", p1)):
        for sname, sval in opt.state[p].items():
            if not isinstance(sval, torch.Tensor):
                sval = torch.tensor(sval)
            if sval.is_floating_point():
                sval = sval.to(torch.float32)
            tensors[f"state.{pname}.{sname}"] = sval
    _save(name, tensors, metadata={"optimizer": name.removeprefix("optim_"),
                                   **{k: str(v) for k, v in metadata.items()}})


def make_optimizers() -> None:
    _make_optim_fixture(
        "optim_sgd", 10,
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, foreach=False),
        {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "dampening": 0.0, "nesterov": False},
    )
    _make_optim_fixture(
        "optim_adam", 11,
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, foreach=False),
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    )
    _make_optim_fixture(
        "optim_adamw", 12,
        lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1,
                                     foreach=False),
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.1, "amsgrad": False},
    )
    _make_optim_fixture(
        "optim_adagrad", 13,
        lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-10, initial_accumulator_value=0.0,
                                       foreach=False),
        {"lr": 0.1, "eps": 1e-10, "initial_accumulator_value": 0.0, "weight_decay": 0.0,
         "lr_decay": 0.0},
    )


# --------------------------------------------------------------------------- #
# 11. EmbeddingBag
# --------------------------------------------------------------------------- #
def make_embedding_bag() -> None:
    _seed(14)
    weight = torch.randn(10, 4)
    indices = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9], dtype=torch.int64)
    offsets = torch.tensor([0, 2, 5], dtype=torch.int64)
    g = torch.randn(3, 4)
    tensors = {"weight": weight, "indices": indices, "offsets": offsets, "grad_output": g}
    for mode in ("sum", "mean"):
        eb = nn.EmbeddingBag(10, 4, mode=mode)
        with torch.no_grad():
            eb.weight.copy_(weight)
        out = eb(indices, offsets)
        out.backward(g)
        tensors[f"output_{mode}"] = out
        tensors[f"grad_weight_{mode}"] = eb.weight.grad
    _save("embedding_bag", tensors)


# --------------------------------------------------------------------------- #
# 12. dtypes
# --------------------------------------------------------------------------- #
def make_dtypes() -> None:
    _seed(15)
    f32 = torch.randn(2, 3)
    f16 = (torch.randn(2, 3) * 10).to(torch.float16)      # randn values are not exact in f16
    bf16 = (torch.randn(2, 3) * 10).to(torch.bfloat16)
    i64 = torch.tensor([-5, 0, 42, 3_000_000_000], dtype=torch.int64)
    i32 = torch.tensor([-7, 0, 123456], dtype=torch.int32)
    u8 = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    b = torch.tensor([True, False, False, True], dtype=torch.bool)
    tensors = {"f32": f32, "f16": f16, "bf16": bf16, "i64": i64, "i32": i32, "u8": u8, "bool": b}
    for k in list(tensors):
        tensors[f"{k}.as_f32"] = tensors[k].to(torch.float32)
    _save("dtypes", tensors, metadata={"producer": "pytorch-fixture"})


def main() -> int:
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    makers = [
        make_linear, make_layernorm, make_batchnorm_train, make_batchnorm_eval,
        make_batchnorm_noaffine_train, make_dropout_eval, make_mlp_train, make_mlp_eval,
        make_bce, make_optimizers, make_embedding_bag, make_dtypes,
    ]
    for m in makers:
        m()
    total = sum(f.stat().st_size for f in OUT_DIR.glob("*.safetensors"))
    print(f"wrote {len(list(OUT_DIR.glob('*.safetensors')))} files to "
          f"{os.path.relpath(OUT_DIR, Path.cwd())} ({total} bytes, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
