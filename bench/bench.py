"""Benchmark the case-study build: figures from one run on this machine (a script, not a test).

    python bench/bench.py                      # everything (about 15 minutes on 2 cores)
    python bench/bench.py --quick              # 2 pairs; scale runs over 10 and 30 pairs
    python bench/bench.py --pairs 3 --actions port-operations bike-sharing --scale 20

(a) naive baseline: per target, the ``papermill`` CLI then ``jupyter nbconvert --to html``
(b) ``c3 build --jobs 1``            (c) ``c3 build`` on all cores
(d) a no-op rebuild                   (e) the floor: the notebooks' own cell-execution time,
                                          as papermill recorded it in the executed notebooks
(f) a synthetic scale run over N generated pairs (cities cloned under new ids): throughput
    and peak memory of the build's process tree and of the build process itself

Memory is sampled with psutil when it is installed: the proportional set size (PSS) of the
whole process tree, every 0.1 s; without psutil, only the largest single process's RSS is
known (``getrusage``). Other work on the
machine slows every figure: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

try:
    import psutil
except ImportError:  # optional: without it, peak memory is per process, not per tree
    psutil = None

REPO = Path(__file__).resolve().parent.parent
PARAMS = REPO / "params"
NOTEBOOKS = REPO / "notebooks"
MIB = 2**20


@dataclass
class Timed:
    seconds: float
    tree_mib: float  # peak memory of the process and all its descendants (PSS where known)
    root_mib: float  # peak memory of the process itself
    output: str


def footprint(p) -> int:
    """A process's proportional set size (shared pages split between their users), else RSS.

    Kernels forked from one template share most of their pages; summing RSS would count
    those once per kernel.
    """
    try:
        return p.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return p.memory_info().rss


def timed(cmd: list[str], env: dict | None = None) -> Timed:
    """Run a command; return its wall time and peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    peaks = {"tree": 0, "root": 0}
    stop = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                mine = footprint(root)
                tree = mine
                for p in root.children(recursive=True):
                    try:
                        tree += footprint(p)
                    except psutil.Error:
                        pass
                peaks["root"] = max(peaks["root"], mine)
                peaks["tree"] = max(peaks["tree"], tree)
            except psutil.Error:
                pass
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True) if psutil else None
    if sampler:
        sampler.start()
    output, _ = proc.communicate()
    seconds = time.monotonic() - started
    stop.set()
    if sampler:
        sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{output}")
    if not psutil:  # kilobytes on Linux: the largest process, not the tree
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peaks["tree"] = peaks["root"] = max(largest, before) * 1024
    return Timed(seconds, peaks["tree"] / MIB, peaks["root"] / MIB, output)


def c3(*args: str) -> list[str]:
    return [sys.executable, "-m", "c3lib", *args]


def targets(pairs: list[str], actions: list[str]) -> list[tuple[str, str, Path]]:
    listed = yaml.safe_load((PARAMS / "actions.yaml").read_text(encoding="utf-8"))["actions"]
    return [
        (p, a["id"], NOTEBOOKS / a["notebook"])
        for p in pairs
        for a in listed
        if a["id"] in actions and (NOTEBOOKS / a["notebook"]).is_file()
    ]


def naive(runs: list[tuple[str, str, Path]], work: Path) -> float:
    """Per target: the papermill CLI, then the nbconvert CLI, one after the other."""
    started = time.monotonic()
    for pair, action, nb in runs:
        out = work / pair / f"{action}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        papermill = [sys.executable, "-m", "papermill", str(nb), str(out), "-p", "pair", pair]
        subprocess.run([*papermill, "--cwd", str(nb.parent)], check=True, capture_output=True)
        nbconvert = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(out)]
        subprocess.run(nbconvert, check=True, capture_output=True)
    return time.monotonic() - started


def cell_seconds(out: Path) -> tuple[float, int]:
    """Sum of the cell durations papermill recorded in the executed notebooks, and their count."""
    total, n = 0.0, 0
    for path in out.glob("*/*.ipynb"):
        if path.name.endswith(".failed.ipynb"):
            continue
        n += 1
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            total += float(cell.get("metadata", {}).get("papermill", {}).get("duration") or 0)
    return total, n


def synthetic_params(n: int, root: Path) -> Path:
    """A params folder with ``n`` pairs, each cloned from a real pair with cloned cities."""
    dst = root / f"params-{n}"
    shutil.copytree(PARAMS, dst)
    real = sorted((PARAMS / "pairs").glob("*.yaml"))
    for p in real:
        (dst / "pairs" / p.name).unlink()
    for i in range(n):
        pair = yaml.safe_load(real[i % len(real)].read_text(encoding="utf-8"))
        for role in ("mentor", "learning"):
            source = PARAMS / "cities" / f"{pair[role]}.yaml"
            city = yaml.safe_load(source.read_text(encoding="utf-8"))
            city["id"] = f"{city['id']}-s{i:03d}"
            text = yaml.safe_dump(city, allow_unicode=True, sort_keys=False)
            (dst / "cities" / f"{city['id']}.yaml").write_text(text, encoding="utf-8")
            pair[role] = city["id"]
        pair["id"] = f"{pair['learning']}-{pair['mentor']}"
        pair["progress"] = {}
        text = yaml.safe_dump(pair, allow_unicode=True, sort_keys=False)
        (dst / "pairs" / f"{pair['id']}.yaml").write_text(text, encoding="utf-8")
    return dst


def counts(output: str) -> str:
    done = [line for line in output.splitlines() if line.startswith("Done in")]
    return done[-1].split(": ", 1)[1].split(". Index")[0] if done else "?"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 pairs; scale runs over 10 and 30 pairs")
    ap.add_argument("--pairs", type=int, metavar="N", help="only the first N real pairs")
    ap.add_argument("--actions", nargs="+", metavar="ID", help="only these actions")
    ap.add_argument(
        "--scale", type=int, nargs="*", metavar="N", help="pair counts for (f) (default 20 100)"
    )
    ap.add_argument(
        "--scale-action",
        default="port-operations",
        metavar="ID",
        help="the workbook the scale runs build (default port-operations)",
    )
    ap.add_argument("--skip-naive", action="store_true", help="leave out (a)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = ap.parse_args()

    listed = yaml.safe_load((PARAMS / "actions.yaml").read_text(encoding="utf-8"))["actions"]
    actions = args.actions or [a["id"] for a in listed]
    all_pairs = sorted(p.stem for p in (PARAMS / "pairs").glob("*.yaml"))
    pairs = all_pairs[: args.pairs or (2 if args.quick else len(all_pairs))]
    scale = args.scale if args.scale is not None else ([10, 30] if args.quick else [20, 100])
    cores = os.cpu_count() or 1
    runs = targets(pairs, actions)
    n = len(runs)
    if not n:
        sys.exit("no target: no selected action has a notebook")
    select = [x for p in pairs for x in ("--pair", p)] + [
        x for a in actions for x in ("--action", a)
    ]
    figures: dict = {"cores": cores, "targets": n, "pairs": len(pairs), "load_before": load()}
    print(
        f"C3 Workbooks benchmark: {n} targets ({len(pairs)} pairs × {len(actions)} actions), "
        f"{cores} cores, Python {sys.version.split()[0]}, "
        f"memory: {'PSS of the process tree' if psutil else 'RSS of the largest process'}; "
        f"load average {load()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="c3-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_naive:
            a = naive(runs, work / "naive")
            e_a, _ = cell_seconds(work / "naive")
            figures.update(a_naive_s=a, e_floor_in_a_s=e_a)
            print(
                f"(a) naive papermill + nbconvert CLIs {a:8.1f} s  {a / n:6.2f} s/target",
                flush=True,
            )
        b = timed(c3("build", "--out", str(work / "b"), "--jobs", "1", *select))
        e, built = cell_seconds(work / "b")
        print(
            f"(b) c3 build --jobs 1                {b.seconds:8.1f} s  "
            f"{b.seconds / n:6.2f} s/target  peak {b.tree_mib:5.0f} MiB  [{counts(b.output)}]",
            flush=True,
        )
        c = timed(c3("build", "--out", str(work / "c"), "--jobs", str(cores), *select))
        e_c, _ = cell_seconds(work / "c")
        vs = ""
        if "a_naive_s" in figures:
            vs = f"  {figures['a_naive_s'] / c.seconds:5.1f}x faster than (a)"
        print(
            f"(c) c3 build --jobs {cores:<2}               {c.seconds:8.1f} s  "
            f"{c.seconds / n:6.2f} s/target  peak {c.tree_mib:5.0f} MiB{vs}",
            flush=True,
        )
        d = timed(c3("build", "--out", str(work / "c"), *select))
        print(
            f"(d) no-op rebuild                    {d.seconds:8.2f} s  "
            f"{100 * d.seconds / c.seconds:5.2f} % of (c)  [{counts(d.output)}]",
            flush=True,
        )
        in_a = f"; {figures['e_floor_in_a_s']:.1f} s in (a)" if "e_floor_in_a_s" in figures else ""
        print(
            f"(e) floor: cell execution            {e:8.1f} s  {e / max(built, 1):6.2f} s/target"
            f"  (in (b); {e_c:.1f} s in (c), where runs share the cores{in_a})\n"
            f"    overhead per run beyond its cells in (b): {(b.seconds - e) / n:5.2f} s",
            flush=True,
        )
        figures.update(
            b_jobs1_s=b.seconds,
            c_all_cores_s=c.seconds,
            d_noop_s=d.seconds,
            e_floor_s=e,
            e_floor_in_c_s=e_c,
            overhead_per_run_s=(b.seconds - e) / n,
            peak_b_mib=b.tree_mib,
            peak_c_mib=c.tree_mib,
            scale=[],
        )
        for count in scale:
            params = synthetic_params(count, work)
            out = work / f"scale-{count}"
            f = timed(
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
            ok = len(list(out.glob("*/*.json")))
            print(
                f"(f) {count:4d} pairs × {args.scale_action}: {f.seconds:7.1f} s, "
                f"{ok / f.seconds:5.2f} runs/s ({ok} built), peak {f.tree_mib:5.0f} MiB "
                f"(build process {f.root_mib:4.0f} MiB)",
                flush=True,
            )
            figures["scale"].append(
                {
                    "pairs": count,
                    "built": ok,
                    "seconds": f.seconds,
                    "runs_per_s": ok / f.seconds,
                    "peak_tree_mib": f.tree_mib,
                    "peak_build_process_mib": f.root_mib,
                }
            )
            shutil.rmtree(out)
    figures["load_after"] = load()
    print(f"load average at the end {load()}")
    if "a_naive_s" in figures:
        ok = figures["a_naive_s"] / figures["c_all_cores_s"] >= 5
        print(f"target (c) ≥ 5× faster than (a): {'met' if ok else 'NOT met'}")
    print(
        "target overhead per run < 1 s: "
        f"{'met' if figures['overhead_per_run_s'] < 1 else 'NOT met'}; "
        f"target (d) < 2 % of (c): {'met' if d.seconds < 0.02 * c.seconds else 'NOT met'}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
