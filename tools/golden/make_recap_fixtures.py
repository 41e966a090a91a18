#!/usr/bin/env python3
"""Golden fixtures for the Heavy Ranker (Recap) parity test.

Builds, in plain PyTorch, a small ranker with the same module structure and
state_dict names as the original MultiTaskRankingModel (DoubleNormLog featurization,
TwHIN embedding LayerNorms, a parallel MaskNet backbone with an MLP, per-task MLP
towers with batch norm and dropout, one affine map, numeric calibration) and writes
Tests/Fixtures/recap/recap_golden.safetensors with:

  state.<name>         the state dict (after randomising norms and running stats)
  input.*              one batch (continuous has NaN/Inf and large values)
  eval.logits / eval.probabilities / eval.calibrated   eval-mode outputs
  train.loss, train.loss.<task>                         train-mode multi-task loss
  grad.<param>                                          gradients of train.loss
  after.<buffer>                                        BatchNorm buffers after the step

Dropout masks are random, so the train-mode step uses a copy of the model whose
dropout rate is 0 (same modules, same names); eval mode uses rate 0.1.

Regenerate:  pip install torch safetensors numpy && python3 tools/golden/make_recap_fixtures.py
"""
import os
import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "recap")

CONT, BIN, EMB = 64, 16, 8
TASKS = ["recap.engagement.is_favorited", "recap.engagement.is_replied", "recap.engagement.is_report_tweet_clicked"]
POS_WEIGHTS = [1.0, 2.0, 0.5]
RATES = [(1.0, 0.05), (0.9, 0.01), (1.0, 1.0)]  # (pos, neg) downsampling
AFFINE = {"recap.engagement.is_replied": (1.5, -0.25)}


def xavier(m):
    if isinstance(m, torch.nn.Linear):
        torch.nn.init.xavier_uniform_(m.weight)
        torch.nn.init.constant_(m.bias, 0)


class Wrap(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


class NonFinite(torch.nn.Module):
    def forward(self, x):
        return torch.where(torch.isfinite(x), x, torch.zeros_like(x))


class Log1pAbs(torch.nn.Module):
    def forward(self, x):
        return torch.sign(x) * torch.log1p(torch.abs(x))


class Clamp(torch.nn.Module):
    def __init__(self, lo, hi):
        super().__init__()
        self.register_buffer("min_value", torch.tensor(lo, dtype=torch.float32))
        self.register_buffer("max_value", torch.tensor(hi, dtype=torch.float32))

    def forward(self, x):
        return torch.clamp(x, min=self.min_value, max=self.max_value)


class DoubleNormLog(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self._before_concat_layers = torch.nn.Sequential(
            NonFinite(), Log1pAbs(), Wrap(torch.nn.BatchNorm1d(CONT, affine=True, momentum=0.01)), Clamp(-5.0, 5.0))
        self.layer_norm = Wrap(torch.nn.LayerNorm(CONT + BIN, eps=0.0, elementwise_affine=True))

    def forward(self, c, b):
        return self.layer_norm(torch.cat([self._before_concat_layers(c), b], dim=1))


class Mlp(torch.nn.Module):
    def __init__(self, n_in, sizes, bn=None, dropout=None, final_act=False):
        super().__init__()
        mods = []
        for s in sizes[:-1]:
            mods.append(torch.nn.Linear(n_in, s))
            if bn:
                mods.append(torch.nn.BatchNorm1d(s, affine=bn[0], momentum=bn[1]))
            mods.append(torch.nn.ReLU())
            if dropout is not None:
                mods.append(torch.nn.Dropout(dropout))
            n_in = s
        mods.append(torch.nn.Linear(n_in, sizes[-1]))
        if final_act:
            mods.append(torch.nn.ReLU())
        self.layers = torch.nn.ModuleList(mods)
        self.layers.apply(xavier)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x


class MaskBlock(torch.nn.Module):
    def __init__(self, n_in, agg, out):
        super().__init__()
        self._mask_layer = torch.nn.Sequential(torch.nn.Linear(n_in, agg), torch.nn.ReLU(), torch.nn.Linear(agg, n_in))
        self._mask_layer.apply(xavier)
        self._hidden_layer = torch.nn.Linear(n_in, out)
        self._hidden_layer.apply(xavier)
        self._layer_norm = torch.nn.LayerNorm(out)

    def forward(self, net, mask_input):
        return self._layer_norm(self._hidden_layer(net * self._mask_layer(mask_input)))


class MaskNet(torch.nn.Module):
    def __init__(self, n_in):
        super().__init__()
        self._mask_blocks = torch.nn.ModuleList([MaskBlock(n_in, 32, 16), MaskBlock(n_in, 32, 16)])
        self._dense_layers = Mlp(32, [32], final_act=True)

    def forward(self, x):
        return self._dense_layers(torch.cat([b(x, x) for b in self._mask_blocks], dim=1))


class Calibration(torch.nn.Module):
    def __init__(self, pos, neg):
        super().__init__()
        self.register_buffer("ratio", torch.as_tensor(neg / pos))

    def forward(self, p):
        return p * self.ratio / (1.0 - p + self.ratio * p)


class Ranker(torch.nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self._preprocessor = DoubleNormLog()
        self._user_embedding_layer_norm = torch.nn.LayerNorm(EMB)
        self._user_eng_embedding_layer_norm = torch.nn.LayerNorm(EMB)
        self._author_embedding_layer_norm = torch.nn.LayerNorm(EMB)
        self._backbone = MaskNet(CONT + BIN + 3 * EMB)
        safe = [t.replace(".", "__") for t in TASKS]
        self._towers = torch.nn.ModuleDict({s: Mlp(32, [16, 8, 1], bn=(False, 0.1), dropout=dropout) for s in safe})
        maps = {}
        for t, s in zip(TASKS, safe):
            if t in AFFINE:
                lin = torch.nn.Linear(1, 1)
                lin.weight.data = torch.tensor([[AFFINE[t][0]]])
                lin.bias.data = torch.tensor([AFFINE[t][1]])
                maps[s] = lin
            else:
                maps[s] = torch.nn.Identity()
        self._affine_maps = torch.nn.ModuleDict(maps)
        self._calibrators = torch.nn.ModuleDict({s: Calibration(*r) for s, r in zip(safe, RATES)})
        self.safe = safe

    def forward(self, c, b, ue, uee, ae):
        h = torch.cat([self._preprocessor(c, b), self._user_embedding_layer_norm(ue),
                       self._user_eng_embedding_layer_norm(uee), self._author_embedding_layer_norm(ae)], dim=1)
        net = self._backbone(h)
        logits = torch.cat([self._affine_maps[s](self._towers[s](net)) for s in self.safe], dim=1)
        p = torch.sigmoid(logits)
        cal = torch.cat([self._calibrators[s](p[:, i:i + 1]) for i, s in enumerate(self.safe)], dim=1)
        return logits, p, cal


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    model = Ranker(dropout=0.1)
    with torch.no_grad():  # make norms and running statistics matter
        for name, t in model.state_dict().items():
            if name.endswith("running_mean"):
                t.copy_(torch.randn_like(t) * 0.3)
            elif name.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            elif "layer_norm" in name or "_layer_norm" in name:
                if name.endswith("weight"):
                    t.copy_(1 + 0.2 * torch.randn_like(t))
                elif name.endswith("bias"):
                    t.copy_(0.1 * torch.randn_like(t))
            elif name.endswith("num_batches_tracked"):
                t.fill_(3)
    state = {k: v.clone() for k, v in model.state_dict().items()}

    B = 12
    c = torch.randn(B, CONT) * 20
    c[0, 0], c[1, 3], c[2, 5], c[3, 7] = float("nan"), float("inf"), float("-inf"), 1e30
    b = (torch.rand(B, BIN) < 0.3).float()
    ue, uee, ae = torch.randn(B, EMB), torch.randn(B, EMB), torch.randn(B, EMB)
    labels = (torch.rand(B, len(TASKS)) < 0.4).float()
    weights = torch.rand(B, len(TASKS)) + 0.5

    model.eval()
    with torch.no_grad():
        logits, p, cal = model(c, b, ue, uee, ae)

    train_model = Ranker(dropout=0.0)
    train_model.load_state_dict(state)
    train_model.train()
    tl, _, _ = train_model(c, b, ue, uee, ae)
    per_task = [torch.nn.functional.binary_cross_entropy_with_logits(
        tl[:, i], labels[:, i], weight=weights[:, i], pos_weight=torch.tensor(POS_WEIGHTS[i])) for i in range(len(TASKS))]
    loss = torch.stack(per_task).mean()
    loss.backward()

    out = {f"state.{k}": v.contiguous() for k, v in state.items()}
    out.update({"input.continuous": c, "input.binary": b, "input.user_embedding": ue, "input.user_eng_embedding": uee,
                "input.author_embedding": ae, "input.labels": labels, "input.weights": weights,
                "input.pos_weight": torch.tensor(POS_WEIGHTS),
                "eval.logits": logits, "eval.probabilities": p, "eval.calibrated": cal,
                "train.loss": loss.detach(), "train.logits": tl.detach()})
    for t, l in zip(TASKS, per_task):
        out[f"train.loss.{t}"] = l.detach()
    for name, prm in train_model.named_parameters():
        out[f"grad.{name}"] = prm.grad.detach().clone()
    for name, buf in train_model.named_buffers():
        out[f"after.{name}"] = buf.clone()
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(OUT, "recap_golden.safetensors"),
              metadata={"tasks": ",".join(TASKS), "torch": torch.__version__})
    print("wrote", os.path.join(OUT, "recap_golden.safetensors"), len(out), "tensors")


if __name__ == "__main__":
    main()
