"""Benchmark the case-study build: figures from one run on this machine (a script, not a test).

    python bench/bench.py                      # everything (about 15 minutes on 2 cores)
    python bench/bench.py --quick              # 2 pairs; scale runs over 10 and 30 pairs
    python bench/bench.py --pairs 3 --actions port-operations bike-sharing --scale 20
    python bench/bench.py --models             # only the per-model micro-benchmark (seconds)
    python bench/bench.py --explorers          # only Run All and the explorer callbacks
    python bench/bench.py --explorers --actions emissions-inventory   # of one workbook

(a) naive baseline: per target, the ``papermill`` CLI then ``jupyter nbconvert --to html``
(b) ``c3 build --jobs 1``            (c) ``c3 build`` on all cores
(d) a no-op rebuild                   (e) the floor: the notebooks' own cell-execution time,
                                          as papermill recorded it in the executed notebooks
(f) a synthetic scale run over N generated pairs (cities cloned under new ids): throughput
    and peak memory of the build's process tree and of the build process itself
(m) per model: the time one evaluation of a topic's headline metrics takes for one real
    city (the model calls its workbook makes for a city, inputs already loaded), median of
    N after a warm-up, in this process
(x) per workbook, as a mentor uses it in JupyterLab: Run All of the source notebook at its
    default parameters in a kernel already started (the time from the first cell to the
    last), then, in that kernel, each explorer control moved across its range; the callback
    time (model + redraw + the new HTML) is measured inside the kernel, no browser

(e) is broken down by kind of cell, classified from the cell's source: imports (the
parameters and import cells), publish (``publish(``), figures (cells that draw: ``plot_``,
``show_figure``, ``show_measures`` or ``explorer(``; per figure = their time over the PNGs
they embed), tables (cells that only show: ``show_``, ``display``, ``Markdown``) and model
(the rest). A cell that computes and draws counts as figures.

Memory is sampled with psutil when it is installed: the proportional set size (PSS) of the
whole process tree, every 0.1 s; without psutil, only the largest single process's RSS is
known (``getrusage``). Other work on the
machine slows every figure: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import ast
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
TARGETS = {  # issue 15
    "e_per_target_s": 1.5,  # (e) at most, per target
    "c_vs_a": 8.0,  # (c) at least this many times faster than (a)
    "overhead_per_run_s": 0.5,  # at most
    "d_share_of_c": 0.02,  # (d) under this share of (c)
    "model_ms": 20.0,  # per headline-metrics evaluation, at most
    "figure_s": 0.25,  # per figure, at most
    "explorer_ms": 200.0,  # issue 17: median explorer callback per workbook, at most
    "run_all_s": 4.0,  # issue 17: Run All per workbook, at most
}
KINDS = ("imports", "model", "figures", "tables", "publish")


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


def cell_kind(cell: dict) -> str:
    """The kind of a code cell, from its tags and source (see the module docstring)."""
    tags = cell.get("metadata", {}).get("tags", [])
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    if "parameters" in tags or "injected-parameters" in tags:
        return "imports"
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = None
    if body and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in body):
        return "imports"
    if "publish(" in source:
        return "publish"
    if any(k in source for k in ("plot_", "show_figure", "show_measures", "explorer(")):
        return "figures"
    if any(k in source for k in ("show_", "display(", "Markdown(")):
        return "tables"
    return "model"


def cell_breakdown(out: Path) -> dict:
    """Cell seconds by kind over the executed notebooks, and the PNGs the figure cells embed."""
    kinds = {k: 0.0 for k in KINDS}
    pngs = 0
    for path in out.glob("*/*.ipynb"):
        if path.name.endswith(".failed.ipynb"):
            continue
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell.get("cell_type") != "code":
                continue
            kind = cell_kind(cell)
            duration = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0
            kinds[kind] += float(duration)
            if kind == "figures":
                pngs += json.dumps(cell.get("outputs", [])).count("image/png")
    return {"seconds": kinds, "figures": pngs}


def model_benchmarks(repeat: int = 21) -> dict[str, dict]:
    """Per topic: median seconds of one headline-metrics evaluation for one real city.

    The city is the learning city of the first pair (by id) of the repository's params,
    for ports the city whose port the most ship classes call. Inputs are loaded once,
    outside the timing; each evaluation is what the workbook's model cells compute for
    that city.
    """
    import statistics

    from c3lib.kit import casestudy as cs
    from c3lib.params import load_catalog
    from c3lib.topics.bikeshare import model as bs
    from c3lib.topics.cooking import model as cooking
    from c3lib.topics.inventory import model as inv
    from c3lib.topics.ports import model as ports
    from c3lib.topics.urban import model as urban

    catalog = load_catalog(PARAMS)
    pairs = sorted(catalog.pairs)

    def rows(case, role):
        inputs = cs.inputs(case)
        return inputs[inputs["role"] == role].set_index("field")

    def port_case():
        factors = ports.load_factors()
        levers = ports.Levers(12.0, 20.0, 0.9, 0.5, 0.1, 0.5)
        found = {}
        for pair in pairs:
            case = cs.load_case(pair, "port-operations", str(PARAMS))
            inputs, profile = cs.inputs(case), cs.profiles(case)
            for role, city in case.cities.items():
                grid = ports.grid_factor(profile[role])
                port = ports.port_from_inputs(inputs, role, city.name, 20.0, grid, factors)
                mine = [m for m in city.measures if m.action == case.action.id]
                port, _ = ports.with_measures_in_place(port, mine, 2024, 0.9)
                if port.has_port:
                    found.setdefault(city.id, port)
        if not found:
            raise SystemExit("no city with a port inventory in the params")
        # the busiest: the most ship classes calling, the most lines to compute
        city, port = max(found.items(), key=lambda kv: (len(kv[1].calls), kv[0]))

        def run():
            ports.port_emissions(port, factors)
            ports.measure_reductions(port, levers, factors=factors)

        return city, run

    def urban_case():
        case = cs.load_case(pairs[0], "low-emission-development", str(PARAMS))
        profile = cs.profiles(case)["learning"]
        city = urban.city_transport(
            rows(case, "learning"), profile["population"], profile["grid_ef"]
        )
        levers = urban.Levers(0.1, 0.2, dict(urban.DEFAULT_SHIFT_TO), 0.3, 0.5, 0.5, 1.0, 0.1)

        def run():
            urban.asif(city)
            t = urban.trajectories(city, urban.scenario_set(levers), 2025, 2035)
            urban.target_check(t, 2035, 0.3)
            urban.wedges(city, levers, 2025, 2035)

        return case.learning.id, run

    def inventory_case():
        pair = pairs[0]
        case = cs.load_case(pair, "emissions-inventory", str(PARAMS))
        inputs = cs.inputs(case)
        port_inputs = cs.inputs(cs.load_case(pair, "port-operations", str(PARAMS)))
        cooking_inputs = cs.inputs(cs.load_case(pair, "commercial-cooking", str(PARAMS)))
        values = inputs[inputs.role == "learning"].set_index("field")["value"].to_dict()
        grid = cs.profiles(case)["learning"].get("grid_ef", float("nan"))
        name = case.learning.name

        def run():
            extra = inv.module_lines(port_inputs, cooking_inputs, "learning", name, grid, 20.0)
            lines, _ = inv.split_indicative(inv.city_lines(values, extra))
            inv.sector_totals(lines)

        return case.learning.id, run

    def cooking_case():
        case = cs.load_case(pairs[0], "commercial-cooking", str(PARAMS))
        city = rows(case, "learning")
        settings = cooking.Settings(0.07, 10.0, "esp", 1.0, 0.7, 400.0, "both")
        return case.learning.id, lambda: cooking.assess_city(city, case.learning.country, settings)

    def bikeshare_case():
        case = cs.load_case(pairs[0], "bike-sharing", str(PARAMS))
        p = cs.profiles(case)["learning"]
        city = rows(case, "learning")
        plan = bs.Plan(13.0, 20.0, 2.25, 4.0)
        return case.learning.id, lambda: bs.assess_city(
            city, p["population"], p["area_km2"], p["grid_ef"], plan
        )

    out = {}
    cases = {
        "ports": port_case,
        "urban": urban_case,
        "inventory": inventory_case,
        "cooking": cooking_case,
        "bikeshare": bikeshare_case,
    }
    for topic, make in cases.items():
        city, run = make()
        run()  # warm-up: caches of reference tables
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        out[topic] = {"city": city, "median_s": statistics.median(times), "n": repeat}
    return out


#: run in the workbook's kernel after Run All: every explorer's controls moved across their
#: range, the callback timed in the kernel (wall and the kernel's CPU time); prints one JSON
#: line, with the kernel's CPU time over Run All (from :data:`_CPU_START`)
_EXPLORER_PROBE = """
import gc as _gc, json as _json, statistics as _st, time as _time
_run_all_cpu = _time.process_time() - _c3_bench_cpu
from c3lib.kit.explore import Explorer as _Explorer
_times, _cpu = [], []
for _x in [o for o in _gc.get_objects() if isinstance(o, _Explorer)]:
    for _c in _x._controls.values():
        _start = _c.value
        _opts = getattr(_c, "options", None)
        if _opts:
            _vals = [o[1] if isinstance(o, tuple) else o for o in _opts]
        else:
            _lo, _hi = _c.min, _c.max
            _vals = [_lo + (_hi - _lo) * f for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
            _vals = [round(v / _c.step) * _c.step for v in _vals]
        for _v in [v for v in _vals if v != _c.value] + [_start]:
            _t, _p = _time.perf_counter(), _time.process_time()
            _c.value = _v
            _times.append(_time.perf_counter() - _t)
            _cpu.append(_time.process_time() - _p)
print(_json.dumps({
    "run_all_cpu_s": _run_all_cpu,
    "n": len(_times),
    "median_s": _st.median(_times) if _times else None,
    "median_cpu_s": _st.median(_cpu) if _cpu else None,
}))
"""

#: run in the kernel just before Run All: the kernel's CPU clock at the start
_CPU_START = "import time as _time; _c3_bench_cpu = _time.process_time()"


def explorer_benchmarks(actions: list[str] | None = None) -> dict[str, dict]:
    """Per workbook, over every pair: Run All in a started kernel, then the explorer callbacks.

    Returns, per action, the slowest Run All (and its pair), the median Run All and the
    median callback time over every control move of every pair, each in wall time and in
    the kernel's CPU time (which other work on the machine slows less). ``actions``: only
    these workbooks (default every one).
    """
    import statistics

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    out = {}
    listed = yaml.safe_load((PARAMS / "actions.yaml").read_text(encoding="utf-8"))["actions"]
    pairs = sorted(p.stem for p in (PARAMS / "pairs").glob("*.yaml"))
    for a in listed:
        path = NOTEBOOKS / a["notebook"]
        if not path.is_file() or (actions and a["id"] not in actions):
            continue
        run_all, run_all_cpu, medians, medians_cpu, moves = {}, {}, [], [], 0
        for pair in pairs:
            nb = nbformat.read(path, as_version=4)
            nb.cells = [c for c in nb.cells if "solution" not in c.metadata.get("tags", [])]
            for cell in nb.cells:
                if "parameters" in cell.metadata.get("tags", []):
                    cell.source += f"\npair = {pair!r}"  # as papermill would inject it
            # on ipc, as the build's kernels (the transport is the manager's, not Popen's);
            # the sockets by absolute path, as the kernel runs in another folder
            sockets = tempfile.mkdtemp(prefix="c3-bench-")
            km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{sockets}/k")
            km.start_kernel(cwd=str(NOTEBOOKS))
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)
                client = NotebookClient(nb, km=km, timeout=600)
                with client.setup_kernel():
                    nb.cells.append(nbformat.v4.new_code_cell(_CPU_START))
                    client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
                    nb.cells.pop()
                    started = time.perf_counter()
                    for index, cell in enumerate(list(nb.cells)):
                        client.execute_cell(cell, index)
                    run_all[pair] = time.perf_counter() - started
                    probe = nbformat.v4.new_code_cell(_EXPLORER_PROBE)
                    nb.cells.append(probe)
                    client.execute_cell(probe, len(nb.cells) - 1)
                text = "".join(
                    o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"
                )
                found = json.loads(text.strip().splitlines()[-1])
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
                shutil.rmtree(sockets, ignore_errors=True)
            run_all_cpu[pair] = found["run_all_cpu_s"]
            if found["median_s"] is not None:
                medians.append(found["median_s"])
                medians_cpu.append(found["median_cpu_s"])
                moves += found["n"]
        slowest = max(run_all, key=run_all.get)
        out[a["id"]] = dict(
            run_all_s=run_all[slowest],
            run_all_pair=slowest,
            run_all_median_s=statistics.median(run_all.values()),
            run_all_cpu_s=max(run_all_cpu.values()),
            run_all_cpu_median_s=statistics.median(run_all_cpu.values()),
            callbacks=moves,
            median_s=statistics.median(medians) if medians else None,
            median_cpu_s=statistics.median(medians_cpu) if medians_cpu else None,
        )
    return out


def print_explorers(found: dict[str, dict]) -> bool:
    t = TARGETS
    ok = True
    for action, m in found.items():
        ms = 1000 * m["median_s"] if m["median_s"] is not None else float("nan")
        cpu_ms = 1000 * m["median_cpu_s"] if m["median_cpu_s"] is not None else float("nan")
        good = m["run_all_s"] <= t["run_all_s"] and ms <= t["explorer_ms"]
        ok &= good
        print(
            f"(x) {action:<26} Run All {m['run_all_s']:5.2f} s at most ({m['run_all_pair']}; "
            f"median {m['run_all_median_s']:.2f} s), explorer callback median {ms:4.0f} ms "
            f"over {m['callbacks']} moves  {'met' if good else 'NOT met'} "
            f"(≤ {t['run_all_s']:g} s, ≤ {t['explorer_ms']:g} ms)\n"
            f"    kernel CPU: Run All {m['run_all_cpu_s']:5.2f} s at most "
            f"(median {m['run_all_cpu_median_s']:.2f} s), callback median {cpu_ms:4.0f} ms",
            flush=True,
        )
    return ok


def print_models(models: dict[str, dict]) -> bool:
    limit = TARGETS["model_ms"]
    ok = True
    for topic, m in models.items():
        ms = 1000 * m["median_s"]
        ok &= ms <= limit
        print(
            f"(m) {topic:<10} {ms:7.1f} ms per evaluation ({m['city']}, median of {m['n']})  "
            f"{'met' if ms <= limit else 'NOT met'} (≤ {limit:g} ms)",
            flush=True,
        )
    return ok


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
    ap.add_argument(
        "--models", action="store_true", help="only the per-model micro-benchmark (m), then stop"
    )
    ap.add_argument(
        "--repeat", type=int, default=21, metavar="N", help="evaluations per model (default 21)"
    )
    ap.add_argument(
        "--explorers",
        action="store_true",
        help="only Run All and the explorer callbacks (x), then stop",
    )
    args = ap.parse_args()
    if args.explorers:
        print(f"C3 Workbooks Run All and explorer benchmark; load average {load()}", flush=True)
        ok = print_explorers(explorer_benchmarks(args.actions))
        print(f"load average at the end {load()}; targets: {'met' if ok else 'NOT met'}")
        return
    if args.models:
        print(f"C3 Workbooks model micro-benchmark; load average {load()}", flush=True)
        models = model_benchmarks(args.repeat)
        ok = print_models(models)
        print(f"load average at the end {load()}; target per model: {'met' if ok else 'NOT met'}")
        if args.json:
            figures = {"models": models, "load": load()}
            Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
        return

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
        kinds = cell_breakdown(work / "b")
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
        per = max(built, 1)
        print(
            "    (e) by kind of cell, per target: "
            + ", ".join(f"{k} {v / per:.2f} s" for k, v in kinds["seconds"].items()),
            flush=True,
        )
        n_fig = kinds["figures"]
        per_figure = kinds["seconds"]["figures"] / n_fig if n_fig else float("nan")
        print(
            f"    figures: {n_fig} PNGs, {per_figure:.3f} s per figure (figure cells' time "
            "over their PNGs, including what those cells compute)",
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
            e_by_kind_s=kinds["seconds"],
            figures=n_fig,
            per_figure_s=per_figure,
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
    models = model_benchmarks(args.repeat)
    models_ok = print_models(models)
    figures["models"] = models
    explorers = explorer_benchmarks()
    explorers_ok = print_explorers(explorers)
    figures["explorers"] = explorers
    figures["load_after"] = load()
    print(f"load average at the end {load()}")
    t = TARGETS
    checks = [
        (f"(e) ≤ {t['e_per_target_s']:g} s per target", e / max(built, 1) <= t["e_per_target_s"]),
        (
            f"overhead per run ≤ {t['overhead_per_run_s']:g} s",
            figures["overhead_per_run_s"] <= t["overhead_per_run_s"],
        ),
        (f"(d) < {100 * t['d_share_of_c']:g} % of (c)", d.seconds < t["d_share_of_c"] * c.seconds),
        (f"≤ {t['figure_s']:g} s per figure", per_figure <= t["figure_s"]),
        (f"≤ {t['model_ms']:g} ms per model evaluation", models_ok),
        (
            f"Run All ≤ {t['run_all_s']:g} s and explorer callback ≤ {t['explorer_ms']:g} ms",
            explorers_ok,
        ),
    ]
    if "a_naive_s" in figures:
        ratio = figures["a_naive_s"] / figures["c_all_cores_s"]
        checks.insert(1, (f"(c) ≥ {t['c_vs_a']:g}× faster than (a)", ratio >= t["c_vs_a"]))
    figures["targets"] = {name: ok for name, ok in checks}
    for name, ok in checks:
        print(f"target {name}: {'met' if ok else 'NOT met'}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
