#!/usr/bin/env python3
"""Mutation fuzzer for the readers behind `tml`: TFRecord (plain and gzip), Parquet, CSV and
safetensors files are mutated and fed to the real command line, exactly as a user runs it.

    swift build -c release --product tml
    python3 tools/fuzz/fuzz_readers.py --tml .build/release/tml --mutants 2000 --seed 1

Per format, every mutant runs one command:
  tfrecord     tml recap predict --input MUTANT (half plain TFRecord, half gzip)
  parquet      tml twhin train with train_data.data_root = MUTANT (2 steps)
  csv          tml twhin train with train_data.data_root = MUTANT.csv (2 steps)
  safetensors  tml recap import-torch --state-dict MUTANT

Outcomes: `ok` (exit 0), `error` (exit 1 with a one-line `Error: ...` message), `other-exit`
(any other exit code, listed), `crash` (killed by a signal, exit >= 128, or a Swift
"Fatal error"/backtrace on stderr), `hang` (no exit within --timeout seconds). Crashing and
hanging mutants are copied to WORK/findings/ with the command to reproduce them. Exit
status 1 when any crash or hang was found. Needs only Python 3 (no third-party modules).
"""
import argparse
import gzip
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

INTERESTING = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]
INTERESTING_WORDS = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 2**40]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Applies 1-4 random edits: bit flips, byte sets, interesting integers, block
    deletion / duplication / insertion, truncation."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            b = bytearray(rng.randbytes(rng.randint(1, 16)))
            continue
        op = rng.randrange(8)
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.choice(INTERESTING)
        elif op == 2:
            w = rng.choice(INTERESTING_WORDS)
            size = rng.choice([2, 4, 8])
            packed = (w & ((1 << (8 * size)) - 1)).to_bytes(size, rng.choice(["little", "big"]))
            b[i:i + size] = packed
        elif op == 3:
            n = rng.randint(1, min(64, len(b) - i))
            del b[i:i + n]
        elif op == 4:
            n = rng.randint(1, min(64, len(b) - i))
            b[i:i] = b[i:i + n]
        elif op == 5:
            b[i:i] = rng.randbytes(rng.randint(1, 16))
        elif op == 6:
            del b[rng.randrange(len(b)):]
        else:
            j = rng.randrange(len(b))
            b[i], b[j] = b[j], b[i]
    return bytes(b)


def mutate_text(data: bytes, rng: random.Random) -> bytes:
    """Line-aware edits for CSV on top of byte edits: drop / duplicate / swap fields,
    huge or negative numbers, quotes, empty lines."""
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(lines))
        fields = lines[k].split(b",")
        op = rng.randrange(6)
        if op == 0 and fields:
            fields[rng.randrange(len(fields))] = rng.choice(
                [b"", b"-1", b"99999999999999999999", b"9223372036854775807", b"1e9", b"\"", b"\"a,b\"", b"NaN", b"\xff\xfe"])
        elif op == 1 and len(fields) > 1:
            del fields[rng.randrange(len(fields))]
        elif op == 2:
            fields.append(b"7")
        elif op == 3:
            lines.insert(k, lines[k])
        elif op == 4:
            lines[k] = b""
        lines[k] = b",".join(fields)
    out = b"\n".join(lines)
    return mutate(out, rng) if rng.random() < 0.3 else out


class Workspace:
    """Builds the clean inputs once: a small ranker with a 2-step checkpoint and its
    TFRecords, a planted TwHIN graph in Parquet and the same edges as CSV."""

    def __init__(self, tml: str, root: str, repo: str):
        self.tml, self.root, self.repo = tml, root, repo
        os.makedirs(root, exist_ok=True)
        for name in ["small.yaml", "small_segdense.json"]:
            shutil.copy(os.path.join(repo, "configs/recap", name), os.path.join(root, name))
        self.run([tml, "recap", "generate-data", "--config", "small.yaml", "--examples", "300"])
        self.run([tml, "recap", "train", "--config", "small.yaml", "--steps", "2", "--save-dir", "ck"])
        self.checkpoint = os.path.join(root, "ck")
        self.tfrecord_gz = os.path.join(root, "data/recap_small/validation/part-0.tfrecord.gz")
        self.tfrecord = os.path.join(root, "plain.tfrecord")
        with gzip.open(self.tfrecord_gz, "rb") as f, open(self.tfrecord, "wb") as out:
            out.write(f.read())
        self.safetensors = os.path.join(root, "ck/checkpoints/step_2/model.safetensors")
        self.run([tml, "twhin", "generate-graph", "--users", "400", "--out", "graph"])
        self.parquet = os.path.join(root, "graph/train/edges-00000.parquet")
        rng = random.Random(0)
        self.csv = os.path.join(root, "edges.csv")
        with open(self.csv, "w") as f:
            f.write("lhs,rel,rhs\n")
            for _ in range(400):
                rel = rng.randrange(4)
                f.write(f"{rng.randrange(400)},{rel},{rng.randrange(40 if rel == 0 else 120)}\n")
        with open(os.path.join(root, "graph/planted.yaml")) as f:
            self.twhin_config = f.read()

    def run(self, cmd):
        p = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"setup failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")

    def twhin_config_for(self, path: str, save_dir: str) -> str:
        text = self.twhin_config.replace("data_root: graph/train/*.parquet", f"data_root: {path}")
        text = text.replace("save_dir: ", f"save_dir: {save_dir} #", 1)
        return text.replace("data_root: graph/heldout/edges.parquet", "data_root: graph/heldout/edges.parquet")


def command(ws: Workspace, fmt: str, mutant: str, scratch: str):
    if fmt in ("tfrecord", "tfrecord.gz"):
        return [ws.tml, "recap", "predict", "--config", "small.yaml", "--checkpoint", ws.checkpoint,
                "--input", mutant, "--output", os.path.join(scratch, "out.tsv")]
    if fmt == "safetensors":
        return [ws.tml, "recap", "import-torch", "--config", "small.yaml", "--state-dict", mutant,
                "--out", os.path.join(scratch, "imported")]
    config = os.path.join(scratch, "twhin.yaml")
    with open(config, "w") as f:
        f.write(ws.twhin_config_for(mutant, os.path.join(scratch, "save")))
    return [ws.tml, "twhin", "train", "--config", config, "--steps", "2", "--save-dir", os.path.join(scratch, "save")]


def classify(p, stderr: str) -> str:
    if p is None:
        return "hang"
    if p.returncode < 0 or p.returncode >= 128 or "Fatal error" in stderr or "Stack dump" in stderr:
        return "crash"
    if p.returncode == 0:
        return "ok"
    return "error" if p.returncode == 1 and "Error:" in stderr else "other-exit"


def run_one(ws: Workspace, fmt: str, index: int, seed: int, timeout: float):
    rng = random.Random(f"{seed}/{fmt}/{index}")
    if fmt == "tfrecord":
        fmt = "tfrecord.gz" if index % 2 else "tfrecord"
    source = {"tfrecord": ws.tfrecord, "tfrecord.gz": ws.tfrecord_gz, "parquet": ws.parquet,
              "csv": ws.csv, "safetensors": ws.safetensors}[fmt]
    with open(source, "rb") as f:
        clean = f.read()
    data = mutate_text(clean, rng) if fmt == "csv" else mutate(clean, rng)
    scratch = os.path.join(ws.root, "scratch", f"{fmt}-{index}")
    os.makedirs(scratch, exist_ok=True)
    ext = {"tfrecord": ".tfrecord", "tfrecord.gz": ".tfrecord.gz", "parquet": ".parquet", "csv": ".csv",
           "safetensors": ".safetensors"}[fmt]
    mutant = os.path.join(scratch, "mutant" + ext)
    with open(mutant, "wb") as f:
        f.write(data)
    cmd = command(ws, fmt, mutant, scratch)
    try:
        p = subprocess.run(cmd, cwd=ws.root, capture_output=True, text=True, errors="replace", timeout=timeout)
        stderr = p.stderr
    except subprocess.TimeoutExpired:
        p, stderr = None, ""
    outcome = classify(p, stderr)
    first_error = next((l for l in stderr.splitlines() if l.startswith("Error:")), "")
    if outcome in ("crash", "hang"):
        findings = os.path.join(ws.root, "findings")
        os.makedirs(findings, exist_ok=True)
        keep = os.path.join(findings, f"{fmt}-{index}{ext}")
        shutil.copy(mutant, keep)
        with open(keep + ".txt", "w") as f:
            f.write(" ".join(cmd) + f"\n(cwd {ws.root})\nexit: {None if p is None else p.returncode}\n{stderr[-4000:]}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return fmt, outcome, (p.returncode if p else None), first_error


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tml", default=".build/release/tml")
    ap.add_argument("--mutants", type=int, default=2000, help="mutants per format")
    ap.add_argument("--formats", default="tfrecord,parquet,csv,safetensors")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--work", default="/tmp/swifttml-fuzz")
    args = ap.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tml = os.path.abspath(args.tml)
    if not os.access(tml, os.X_OK):
        sys.exit(f"{tml}: not an executable; build it with: swift build -c release --product tml")
    shutil.rmtree(args.work, ignore_errors=True)
    ws = Workspace(tml, args.work, repo)
    formats = args.formats.split(",")
    started = time.time()
    results = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [pool.submit(run_one, ws, fmt, i, args.seed, args.timeout) for fmt in formats for i in range(args.mutants)]
        for n, job in enumerate(jobs, 1):
            fmt, outcome, code, first_error = job.result()
            key = "tfrecord" if fmt.startswith("tfrecord") else fmt
            r = results.setdefault(key, {"mutants": 0, "ok": 0, "error": 0, "other-exit": 0, "crash": 0, "hang": 0,
                                         "other_codes": {}, "errors": {}})
            r["mutants"] += 1
            r[outcome] += 1
            if outcome == "other-exit":
                r["other_codes"][str(code)] = r["other_codes"].get(str(code), 0) + 1
            if first_error:
                # Group messages by their shape: digits and paths vary between mutants.
                shape = "".join("#" if c.isdigit() else c for c in first_error.replace(args.work, "WORK"))[:110]
                r["errors"][shape] = r["errors"].get(shape, 0) + 1
            if n % 500 == 0:
                print(f"  {n}/{len(jobs)} mutants, {time.time() - started:.0f} s", file=sys.stderr)
    print(f"tml: {tml}\nmutants per format: {args.mutants}, seed {args.seed}, timeout {args.timeout:.0f} s, "
          f"{time.time() - started:.0f} s in all")
    print(f"{'format':<12} {'mutants':>7} {'ok':>6} {'error':>6} {'other':>6} {'crash':>6} {'hang':>5}")
    for fmt, r in results.items():
        print(f"{fmt:<12} {r['mutants']:>7} {r['ok']:>6} {r['error']:>6} {r['other-exit']:>6} {r['crash']:>6} {r['hang']:>5}")
    for fmt, r in results.items():
        top = sorted(r["errors"].items(), key=lambda kv: -kv[1])[:6]
        print(f"\n{fmt}: most frequent error messages")
        for shape, count in top:
            print(f"  {count:>5}  {shape}")
        if r["other_codes"]:
            print(f"  other exit codes: {r['other_codes']}")
    with open(os.path.join(args.work, "summary.json"), "w") as f:
        json.dump(results, f, indent=1)
    bad = sum(r["crash"] + r["hang"] for r in results.values())
    if bad:
        print(f"\n{bad} crashing or hanging mutants kept in {args.work}/findings/")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
