"""Benchmark the case-study build: prints figures from one run on this machine (not a test).

    python bench/bench.py              # everything (about 15 minutes on 2 cores)
    python bench/bench.py --quick      # 2 pairs, a 10-pair scale run only

(a) naive baseline: per target, the ``papermill`` CLI then ``jupyter nbconvert --to html``
(b) ``c3 build --jobs 1``          (c) ``c3 build`` on all cores
(d) a no-op rebuild                 (e) the floor: the notebooks' own cell-execution time
(f) a synthetic scale run over N generated pairs: throughput and peak memory
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
PARAMS = REPO / "params"
NOTEBOOKS = REPO / "notebooks"


def timed(cmd: list[str], **kw) -> tuple[float, int]:
    """Run a command; return its wall time and the peak RSS of its whole process tree [MiB]."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                root = psutil.Process(proc.pid)
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            stop.wait(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    code = proc.wait()
    stop.set()
    t.join()
    if code not in (0, 1):
        sys.exit(f"command failed ({code}): {' '.join(cmd)}")
    return time.monotonic() - started, peak // 2**20


def c3(*args: str) -> list[str]:
    return [sys.executable, "-m", "c3lib", *args]


def targets(pairs: list[str]) -> list[tuple[str, str, Path]]:
    actions = yaml.safe_load((PARAMS / "actions.yaml").read_text(encoding="utf-8"))["actions"]
    return [
        (p, a["id"], NOTEBOOKS / a["notebook"])
        for p in pairs
        for a in actions
        if (NOTEBOOKS / a["notebook"]).is_file()
    ]


def naive(pairs: list[str], work: Path) -> float:
    started = time.monotonic()
    for pair, action, nb in targets(pairs):
        out = work / f"{pair}-{action}.ipynb"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "papermill",
                str(nb),
                str(out),
                "-p",
                "pair",
                pair,
                "--cwd",
                str(NOTEBOOKS),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(out)],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


def cell_seconds(out: Path) -> float:
    total = 0.0
    for path in out.glob("*/*.ipynb"):
        if path.name.endswith(".failed.ipynb"):
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            total += float(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0)
    return total


def synthetic_params(n: int, root: Path) -> Path:
    """A params folder with ``n`` pairs cloned from the real ones under new ids."""
    dst = root / f"params-{n}"
    shutil.copytree(PARAMS, dst)
    pairs = sorted((PARAMS / "pairs").glob("*.yaml"))
    for i in range(n):
        base = yaml.safe_load(pairs[i % len(pairs)].read_text(encoding="utf-8"))
        for role in ("mentor", "learning"):
            city = yaml.safe_load((PARAMS / "cities" / f"{base[role]}.yaml").read_text("utf-8"))
            city["id"] = f"{city['id']}-s{i}"
            (dst / "cities" / f"{city['id']}.yaml").write_text(yaml.safe_dump(city), "utf-8")
            base[role] = city["id"]
        base["id"] = f"synthetic-{i:03d}"
        base["progress"] = {}
        (dst / "pairs" / f"{base['id']}.yaml").write_text(yaml.safe_dump(base), "utf-8")
    for p in pairs:
        (dst / "pairs" / p.name).unlink()
    return dst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 pairs; scale run over 10 pairs")
    ap.add_argument(
        "--scale",
        type=int,
        nargs="*",
        default=None,
        help="pair counts for the scale run (default 20 100; quick: 10)",
    )
    ap.add_argument(
        "--scale-action",
        default="port-operations",
        help="the one workbook the scale run builds (default port-operations)",
    )
    args = ap.parse_args()
    all_pairs = sorted(p.stem for p in (PARAMS / "pairs").glob("*.yaml"))
    pairs = all_pairs[:2] if args.quick else all_pairs
    scale = args.scale if args.scale is not None else ([10] if args.quick else [20, 100])
    cores = os.cpu_count() or 1
    n = len(targets(pairs))
    sel = [a for p in pairs for a in ("--pair", p)]
    print(
        f"C3 Workbooks benchmark: {n} targets ({len(pairs)} pairs), {cores} cores, "
        f"Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "naive").mkdir()
        a = naive(pairs, work / "naive")
        b, mem_b = timed(c3("build", "--out", str(work / "b"), "--jobs", "1", *sel))
        c, mem_c = timed(c3("build", "--out", str(work / "c"), "--jobs", str(cores), *sel))
        d, _ = timed(c3("build", "--out", str(work / "c"), "--jobs", str(cores), *sel))
        e = cell_seconds(work / "c")
        print(f"(a) naive papermill + nbconvert CLIs  {a:8.1f} s   {a / n:5.2f} s/target")
        print(
            f"(b) c3 build --jobs 1                 {b:8.1f} s   {b / n:5.2f} s/target  "
            f"peak {mem_b} MiB"
        )
        print(
            f"(c) c3 build --jobs {cores}                 {c:8.1f} s   {a / c:5.1f}x faster "
            f"than (a)  peak {mem_c} MiB"
        )
        print(f"(d) no-op rebuild                     {d:8.2f} s   {100 * d / c:5.2f} % of (c)")
        print(f"(e) floor: cell execution             {e:8.1f} s   {e / n:5.2f} s/target")
        print(f"    overhead per run beyond its cells (b): {(b - e) / n:5.2f} s")
        for count in scale:
            params = synthetic_params(count, work)
            out = work / f"scale-{count}"
            t, mem = timed(
                c3(
                    "build",
                    "--params",
                    str(params),
                    "--out",
                    str(out),
                    "--action",
                    args.scale_action,
                    "--jobs",
                    str(cores),
                )
            )
            built = len(list(out.glob("*/*.json")))
            print(
                f"(f) scale: {count:4d} pairs × {args.scale_action}: {t:7.1f} s, "
                f"{built / t:5.2f} runs/s, peak {mem} MiB"
            )
            json.dumps({"pairs": count, "seconds": t, "peak_mib": mem})


if __name__ == "__main__":
    main()
