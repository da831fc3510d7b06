"""Provisioning the whole fleet on the local target: all 33 tenants from nothing, then the no-op re-run.

    .venv/bin/python bench/provision.py [--json] [--strict] [--profile]

Both runs are `fsp up --all` in a subprocess (what an operator types, interpreter start included) on an empty
temporary FSP_HOME with SQLite databases, removed at the end. Targets: first run <= 30 s, re-run <= 3 s; the
ratio is time / target (<= 1 meets it). A run whose outcomes are not all `created` (first) or all `unchanged`
(re-run) is invalid (exit 2); --strict also exits 1 when a target is missed. --profile runs the first
provisioning once more in-process under cProfile and prints where the time goes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FSP = str(Path(sys.executable).with_name("fsp"))
TARGETS = {"first": 30.0, "rerun": 3.0}
EXPECTED = {"first": "created", "rerun": "unchanged"}


def _fsp_up(home: Path) -> tuple[float, list[dict]]:
    """Seconds `fsp up --all --json` took, and what it reported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSP_")}
    started = time.perf_counter()
    done = subprocess.run([FSP, "up", "--all", "--json", "--home", str(home)], env=env, capture_output=True,
                          text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"fsp up --all failed:\n{done.stderr}")
    return elapsed, json.loads(done.stdout)


def measure() -> dict:
    with tempfile.TemporaryDirectory(prefix="fsp-bench-") as scratch:
        home = Path(scratch) / "fsp-home"
        rows = {}
        for phase in ("first", "rerun"):
            seconds, results = _fsp_up(home)
            outcomes = sorted({r["outcome"] for r in results})
            rows[phase] = {"seconds": round(seconds, 3), "target_seconds": TARGETS[phase],
                           "ratio": round(seconds / TARGETS[phase], 3), "tenants": len({r["tenant"] for r in results}),
                           "resources": len(results), "outcomes": outcomes,
                           "valid": outcomes == [EXPECTED[phase]]}
    rows["rerun_over_first"] = round(rows["rerun"]["seconds"] / rows["first"]["seconds"], 3)
    return rows


def profile() -> None:
    import cProfile
    import pstats

    from provisioning_cli.targets.local import LocalTarget
    from tenants import load_catalog

    catalog = load_catalog()
    with tempfile.TemporaryDirectory(prefix="fsp-bench-") as scratch:
        target = LocalTarget(Path(scratch), catalog)
        profiler = cProfile.Profile()
        profiler.runcall(target.converge, catalog.tenants)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", action="store_true", help="also profile an in-process first provisioning")
    args = parser.parse_args()
    rows = measure()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'run':<8} {'tenants':>7} {'seconds':>8} {'target':>7} {'ratio':>6}  outcomes")
        for phase in ("first", "rerun"):
            r = rows[phase]
            print(f"{phase:<8} {r['tenants']:>7} {r['seconds']:>8.2f} {r['target_seconds']:>7.0f} {r['ratio']:>6.2f}"
                  f"  {','.join(r['outcomes'])}")
        print(f"re-run / first: {rows['rerun_over_first']:.2f}")
    if args.profile:
        profile()
    if not all(rows[p]["valid"] for p in ("first", "rerun")):
        print("invalid run: outcomes not all created, then all unchanged", file=sys.stderr)
        return 2
    if args.strict and any(rows[p]["ratio"] > 1 for p in ("first", "rerun")):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
