"""Benchmark FER2013 ingestion: the reference line-by-line loop vs ``load_dataset`` (first and cached).

Each variant runs in a fresh Python process, so its peak RSS (``ru_maxrss``, interpreter included)
is its own. Targets (exit status 1 when one is missed):

- first load (parse + write cache) >= 5x faster than the reference and <= 1/4 of its peak RSS,
  and < 3 s and < 500 MB in absolute terms;
- cached reload (hashing the source included) < 0.5 s.

Usage: ``python bench/ingest.py [--csv PATH] [--skip-reference] [--repeat N] [--json OUT]``.
On a busy machine, ``--repeat 3`` keeps the fastest of 3 runs of the two fast variants (each run
of ``first`` starts from an empty cache); the reference always runs once.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"

MIN_SPEEDUP = 5.0
MAX_MEMORY_SHARE = 0.25
MAX_FIRST_SECONDS = 3.0
MAX_FIRST_RSS_MB = 500.0
MAX_CACHED_SECONDS = 0.5
VARIANTS = ("reference", "first", "cached")


def reference_load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The line-by-line loader this project replaces (float64 images, as it was written)."""
    X, y = [], []
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            row = line.split(",")
            if row[0] == "emotion":
                continue
            y.append(int(row[0]))
            X.append([int(p) for p in row[1].split()])
    X = np.array(X) / 255.0
    return X, np.array(y)


def run_child(variant: str, csv: Path, cache_dir: Path) -> dict[str, Any]:
    """Load once in this process; report time, CPU time, peak RSS and a checksum of the pixels."""
    if variant == "reference":
        start, cpu_start = time.perf_counter(), time.process_time()
        images, labels = reference_load(csv)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        checksum = int(np.rint(images * 255.0).sum())
    else:
        from fer_core.data import load_dataset

        start, cpu_start = time.perf_counter(), time.process_time()
        dataset = load_dataset(csv, cache_dir=cache_dir)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if dataset.report.from_cache != (variant == "cached"):
            raise SystemExit(f"{variant}: expected from_cache={variant == 'cached'}")
        images, labels = dataset.images, dataset.labels
        checksum = int(images.sum(dtype=np.int64))
    return {
        "variant": variant,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_rows": len(labels),
        "pixel_checksum": checksum,
    }


def measure(variant: str, csv: Path, cache_dir: Path) -> dict[str, Any]:
    """Run one variant in a fresh interpreter and parse its JSON line."""
    command = [sys.executable, __file__, "--child", variant, "--csv", str(csv), "--cache-dir", str(cache_dir)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, bool]]:
    """Each target as (description with the measured value, met?)."""
    first, cached = results["first"], results["cached"]
    checks = [
        (f"first load {first['seconds']:.2f} s < {MAX_FIRST_SECONDS} s",
         first["seconds"] < MAX_FIRST_SECONDS),
        (f"first load peak RSS {first['peak_rss_mb']:.0f} MB < {MAX_FIRST_RSS_MB:.0f} MB",
         first["peak_rss_mb"] < MAX_FIRST_RSS_MB),
        (f"cached reload {cached['seconds']:.3f} s < {MAX_CACHED_SECONDS} s",
         cached["seconds"] < MAX_CACHED_SECONDS),
    ]
    if "reference" in results:
        reference = results["reference"]
        speedup = reference["seconds"] / first["seconds"]
        share = first["peak_rss_mb"] / reference["peak_rss_mb"]
        checks += [
            (f"speed-up vs reference {speedup:.1f}x >= {MIN_SPEEDUP}x", speedup >= MIN_SPEEDUP),
            (f"peak RSS vs reference {share:.3f} <= {MAX_MEMORY_SHARE}", share <= MAX_MEMORY_SHARE),
            ("same rows and pixels as the reference",
             [reference["n_rows"], reference["pixel_checksum"]] == [first["n_rows"], first["pixel_checksum"]]),
        ]
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=Path(os.environ.get("FER2013_CSV", DEFAULT_CSV)))
    parser.add_argument(
        "--skip-reference", action="store_true", help="skip the slow (~16 s, ~2 GB) reference loop"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of first/cached; the fastest counts")
    parser.add_argument("--json", type=Path, help="also write the measurements to this file")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.csv, args.cache_dir)))
        return 0
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1 (got {args.repeat})")
    if not args.csv.is_file():
        print(f"FER2013 CSV not found at {args.csv}; pass --csv PATH or set FER2013_CSV", file=sys.stderr)
        return 2

    results = {} if args.skip_reference else {"reference": measure("reference", args.csv, Path("."))}
    runs: list[dict[str, dict[str, Any]]] = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="fer-ingest-") as cache_dir:
            runs.append({variant: measure(variant, args.csv, Path(cache_dir)) for variant in VARIANTS[1:]})
    for variant in VARIANTS[1:]:
        results[variant] = min((run[variant] for run in runs), key=lambda result: result["seconds"])
    print(f"{args.csv} ({args.csv.stat().st_size / 1e6:.1f} MB), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, best of {args.repeat} for first/cached")
    print(f"{'variant':<10} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'rows':>7}")
    for result in results.values():
        print(f"{result['variant']:<10} {result['seconds']:>8.3f} {result['cpu_seconds']:>8.3f} "
              f"{result['peak_rss_mb']:>12.0f} {result['n_rows']:>7}")
    checks = check_targets(results)
    for description, met in checks:
        print(f"[{'ok' if met else 'MISSED'}] {description}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results, "checks": dict(checks)}, indent=2))
    return 0 if all(met for _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
