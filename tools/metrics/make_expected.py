#!/usr/bin/env python3
"""Reference values for SwiftTML's TMLMetrics tests.

Writes ``Tests/TMLMetricsTests/Fixtures/expected_metrics.json`` (relative to the
repository root, found from this script's location): fixed inputs and the metric
values the Swift code must reproduce.

  * AUROC      — ``sklearn.metrics.roc_auc_score`` with ``sample_weight`` (the
                 trapezoidal ROC area, which is the Mann–Whitney statistic with ties
                 counting ½), cross-checked against a brute-force pairwise count.
  * RCE / NRCE — numpy, from the formulas in DESIGN.md §9 and the original's
                 ``metrics/rce.py``: predictions clipped to [eps, 1 - eps], then
                 ``-y log(p + eps) - (1 - y) log(1 - p + eps)`` (Keras-style), weighted
                 means, baseline = the same loss of the mean label against itself.
                 Cross-checked against ``sklearn.metrics.log_loss``.
  * NRCE (running) — the original's per-batch running normaliser over given chunks.
  * CTR, pCTR, count, positives; stratified per-task metrics; ranks / MRR / Hits@K
    with the realistic tie rule; sampled AUC over all pairs.

Inputs are float32 values (written as the exact float64 of each float32), so Swift's
Float and Double paths see the same numbers. Deterministic (fixed seeds).

    pip install numpy scikit-learn
    python3 tools/metrics/make_expected.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import log_loss, roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "TMLMetricsTests" / "Fixtures" / "expected_metrics.json"
EPS = 1e-7


def f32(values) -> np.ndarray:
    """Rounds to float32, then widens back to float64 for exact reference arithmetic."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def as_list(a):
    return None if a is None else [float(v) for v in a]


# ----------------------------------------------------------------------------- binary


def bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    c = np.clip(p, EPS, 1.0 - EPS)
    return -y * np.log(c + EPS) - (1.0 - y) * np.log(1.0 - c + EPS)


def rce_from(ce_model: float, mean_label: float) -> float | None:
    if mean_label <= 0.0 or mean_label >= 1.0:
        return None
    baseline = float(bce(np.array([mean_label]), np.array([mean_label]))[0])
    return 100.0 * (1.0 - ce_model / baseline)


def rce(p, y, w) -> float | None:
    return rce_from(float(np.sum(w * bce(p, y)) / np.sum(w)), float(np.sum(w * y) / np.sum(w)))


def nrce(p, y, w) -> float | None:
    mean_p = np.sum(w * p) / np.sum(w)
    if mean_p <= 0:
        return None
    scaled = p * (np.sum(w * y) / np.sum(w)) / mean_p
    return rce_from(float(np.sum(w * bce(scaled, y)) / np.sum(w)), float(np.sum(w * y) / np.sum(w)))


def nrce_running(p, y, w, chunks) -> float | None:
    """The original's NRCE.update: each chunk is rescaled by the running means so far."""
    sw = swy = swp = swce = 0.0
    start = 0
    for size in chunks:
        sl = slice(start, start + size)
        start += size
        sw += np.sum(w[sl])
        swy += np.sum(w[sl] * y[sl])
        swp += np.sum(w[sl] * p[sl])
        swce += np.sum(w[sl] * bce(p[sl] * (swy / swp), y[sl]))
    assert start == len(p)
    return rce_from(swce / sw, swy / sw)


def auroc_pairwise(s, y, w) -> float:
    pos, neg = y > 0.5, y <= 0.5
    sp, wp, sn, wn = s[pos], w[pos], s[neg], w[neg]
    gt = (sp[:, None] > sn[None, :]).astype(np.float64)
    eq = (sp[:, None] == sn[None, :]).astype(np.float64)
    return float(np.sum(wp[:, None] * wn[None, :] * (gt + 0.5 * eq)) / (wp.sum() * wn.sum()))


def missing_class(y, w) -> str | None:
    if np.sum(w[y <= 0.5]) == 0:
        return "negative"
    if np.sum(w[y > 0.5]) == 0:
        return "positive"
    return None


def binary_case(name, p, y, w=None, chunks=None, note=""):
    p, y = f32(p), f32(y)
    wv = np.ones_like(p) if w is None else f32(w)
    chunks = chunks or [len(p)]
    missing = missing_class(y, wv)
    expected = {
        "count": len(p),
        "positives": float(np.sum(y)),
        "ctr": float(np.sum(wv * y) / np.sum(wv)),
        "pctr": float(np.sum(wv * p) / np.sum(wv)),
        "missing_class": missing,
        "auroc": None,
        "rce": None,
        "nrce": None,
        "nrce_running": None,
    }
    if missing is None:  # else sklearn too finds AUROC undefined ("only one class present")
        auc = float(roc_auc_score(y > 0.5, p, sample_weight=None if w is None else wv))
        if len(p) <= 3000:
            brute = auroc_pairwise(p, y, wv)
            assert abs(auc - brute) < 1e-9, (name, auc, brute)
        expected.update(auroc=auc, rce=rce(p, y, wv), nrce=nrce(p, y, wv), nrce_running=nrce_running(p, y, wv, chunks))
        inside = (p > 1e-3) & (p < 1 - 1e-3)
        if inside.all():  # away from the clip, the Keras-style loss is sklearn's log loss
            ll = log_loss(y, p, sample_weight=wv, labels=[0, 1])
            ce = float(np.sum(wv * bce(p, y)) / np.sum(wv))
            assert abs(ll - ce) < 1e-5 * max(1.0, ll), (name, ll, ce)
    return {"name": name, "note": note, "predictions": as_list(p), "labels": as_list(y),
            "weights": as_list(None if w is None else wv), "chunks": chunks, "expected": expected}


def binary_cases(rng):
    cases = [
        binary_case("ties_unweighted",
                    [0.1, 0.4, 0.4, 0.8, 0.4, 0.2, 0.8, 0.9],
                    [0, 1, 0, 1, 0, 0, 0, 1], chunks=[3, 2, 3],
                    note="ties across classes at 0.4 and 0.8"),
        binary_case("ties_weighted",
                    [0.3, 0.3, 0.3, 0.6, 0.6, 0.1, 0.95, 0.05, 0.6],
                    [1, 0, 0, 1, 0, 0, 1, 0, 1],
                    [2.0, 0.5, 1.0, 3.0, 1.5, 1.0, 0.25, 4.0, 0.0], chunks=[4, 5],
                    note="weights, ties, and a zero weight"),
        binary_case("tiny", [0.2, 0.7, 0.6], [0, 1, 0], note="three examples"),
        binary_case("all_tied_scores", [0.5] * 6, [1, 0, 1, 0, 0, 0],
                    note="constant scores: AUROC 0.5"),
        binary_case("clipped_extremes", [0.0, 1.0, 0.0, 1.0, 0.5, 1e-9], [0, 1, 1, 0, 1, 0],
                    note="predictions at 0 and 1 are clipped to [eps, 1-eps]"),
        binary_case("missing_positive", [0.1, 0.5, 0.3], [0, 0, 0], chunks=[1, 2],
                    note="no positives: AUROC, RCE, NRCE undefined"),
        binary_case("missing_negative", [0.1, 0.5, 0.3], [1, 1, 1], [1.0, 2.0, 1.0],
                    note="no negatives: AUROC, RCE, NRCE undefined"),
        binary_case("positives_weigh_zero", [0.1, 0.5, 0.3, 0.7], [0, 1, 0, 1], [1.0, 0.0, 2.0, 0.0],
                    note="positives present but of total weight 0"),
    ]
    n = 1000
    p = rng.uniform(0, 1, n)
    p[: n // 4] = np.round(p[: n // 4], 2)  # a quarter coarse → many ties
    y = (rng.uniform(0, 1, n) < p).astype(np.float64)
    w = rng.uniform(0.1, 3.0, n)
    cases.append(binary_case("random_1000_weighted", p, y, w, chunks=[100, 337, 1, 62, 500],
                             note="seeded uniform predictions, labels ~ Bernoulli(p), weights U(0.1, 3)"))
    n = 10000
    logits = rng.normal(-5.0, 1.5, n)
    p = 1 / (1 + np.exp(-logits))
    y = (rng.uniform(0, 1, n) < p * 1.3).astype(np.float64)
    w = np.where(rng.uniform(0, 1, n) < 0.1, 5.0, 1.0)
    cases.append(binary_case("random_10000_low_ctr", p, y, w, chunks=[4096, 4096, 1808],
                             note="low CTR (~1%), probabilities near 0, miscalibrated by 1.3x"))
    n = 5000
    p = np.round(rng.beta(2, 5, n), 3)
    y = (rng.uniform(0, 1, n) < p).astype(np.float64)
    cases.append(binary_case("random_5000_unweighted", p, y, chunks=[1000] * 5,
                             note="unweighted, 3-decimal predictions (ties)"))
    return cases


# ----------------------------------------------------------------------------- stratified


def stratified_case(rng):
    b, t, width = 600, 2, 3
    tasks = ["fav", "reply"]
    p = f32(rng.uniform(0, 1, (b, t)))
    y = f32((rng.uniform(0, 1, (b, t)) < p).astype(np.float64))
    w = f32(rng.uniform(0.5, 2.0, (b, t)))
    discrete = rng.integers(0, 3, (b, width))
    discrete[:, 2] = rng.choice([0, 9, 4], size=b)
    stratifiers = [{"name": "level", "index": 2, "value": 9}, {"name": "level", "index": 2, "value": 0},
                   {"name": "bucket", "index": 0, "value": 1}]
    expected = {}

    def metrics(pp, yy, ww):
        return {"auroc": float(roc_auc_score(yy > 0.5, pp, sample_weight=ww)), "rce": rce(pp, yy, ww),
                "nrce": nrce(pp, yy, ww), "ctr": float(np.sum(ww * yy) / np.sum(ww)),
                "pctr": float(np.sum(ww * pp) / np.sum(ww)), "count": float(len(pp)), "positives": float(np.sum(yy))}

    for k, task in enumerate(tasks):
        for key, v in metrics(p[:, k], y[:, k], w[:, k]).items():
            expected[f"{task}/{key}"] = v
        for s in stratifiers:
            rows = discrete[:, s["index"]] == s["value"]
            for key, v in metrics(p[rows, k], y[rows, k], w[rows, k]).items():
                expected[f"{task}/{s['name']}_{s['value']}/{key}"] = v
    return {"tasks": tasks, "batch_size": b, "chunks": [200, 150, 250], "stratifiers": stratifiers,
            "probabilities": as_list(p.ravel()), "labels": as_list(y.ravel()), "weights": as_list(w.ravel()),
            "discrete_width": width, "discrete": [int(v) for v in discrete.ravel()], "expected": expected}


# ----------------------------------------------------------------------------- ranking


def ranking_case(rng):
    n, m = 60, 80
    scores = f32(np.round(rng.normal(0.5, 1, n), 1))
    candidates = f32(np.round(rng.normal(0, 1, (n, m)), 1))  # coarse → ties with the true score
    excluded = rng.uniform(0, 1, (n, m)) < 0.1
    higher = ((candidates > scores[:, None]) & ~excluded).sum(1)
    tied = ((candidates == scores[:, None]) & ~excluded).sum(1)
    assert tied.sum() > 0
    ranks = 1 + higher + 0.5 * tied
    expected = {"mrr": float(np.mean(1 / ranks)), "mean_rank": float(np.mean(ranks)), "count": float(n)}
    for k in (1, 10, 50):
        expected[f"hits@{k}"] = float(np.mean(ranks <= k))
    return {"scores": as_list(scores), "candidates": as_list(candidates.ravel()), "candidates_per_item": m,
            "excluded": [bool(v) for v in excluded.ravel()], "ranks": as_list(ranks), "expected": expected}


def sampled_auc_case(rng):
    pos = f32(np.round(rng.normal(1.0, 1, 300), 1))
    neg = f32(np.round(rng.normal(0.0, 1, 700), 1))
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    auc = float(roc_auc_score(labels, np.r_[pos, neg]))
    brute = float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))
    assert abs(auc - brute) < 1e-12
    return {"positive_scores": as_list(pos), "negative_scores": as_list(neg), "expected": auc}


def main():
    rng = np.random.default_rng(20240611)
    doc = {
        "generator": "tools/metrics/make_expected.py",
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
        "epsilon": EPS,
        "binary": binary_cases(rng),
        "stratified": stratified_case(rng),
        "ranking": ranking_case(rng),
        "sampled_auc": sampled_auc_case(rng),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
