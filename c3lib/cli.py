"""The ``c3`` command: validate params, list and build case studies."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from c3lib.exceptions import C3Error, ParamsError, ParamsErrors

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 130
#: longest temporary folder a kernel's IPC socket path fits under (a Unix socket path is
#: at most 107 bytes; kernels bind <tmp>/c3-kernel-XXXXXXXX/k-<port>-pipe)
MAX_TMPDIR_CHARS = 70
_SCHEDULER = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9._\-\[\]:]+:\d{1,5}/?$")


def _count(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {n}")
    return n


def _seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0."""
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(s) or s <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds above 0, got {text}")
    return s


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _params_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--params",
        metavar="DIR",
        default=None,
        help="params folder (default: $C3_PARAMS or the repository's params/)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="c3",
        description="C3 Workbooks: build city-pair case studies from parameterized notebooks.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate",
        help="check every params file; non-zero exit on any error",
        description="Check actions, pairs and cities; each error names the file and the field.",
    )
    _params_arg(p)

    p = sub.add_parser(
        "list",
        help="show pairs, actions and what a build would run",
        description="Show pairs, actions and the runs a build would make.",
    )
    _params_arg(p)
    p.add_argument(
        "--out", metavar="DIR", default="outputs", help="output folder (default: outputs/)"
    )

    p = sub.add_parser(
        "build",
        help="run the workbooks and export the case studies",
        description="Run every (pair × action) that has a notebook and write "
        "outputs/<pair>/<action>.{ipynb,html,json} and "
        "outputs/index.html.",
    )
    _params_arg(p)
    p.add_argument("--pair", action="append", metavar="ID", help="only this pair (repeatable)")
    p.add_argument("--action", action="append", metavar="ID", help="only this action (repeatable)")
    p.add_argument(
        "--out", metavar="DIR", default="outputs", help="output folder (default: outputs/)"
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=_count,
        default=os.cpu_count() or 1,
        metavar="N",
        help="parallel runs (default: number of cores)",
    )
    p.add_argument("--force", action="store_true", help="re-run targets that are up to date")
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print each case study to <pair>/<action>.pdf (A4) with headless Chromium "
        "(Debian's chromium package, driven by Playwright)",
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="if another build is writing into the output folder, exit (code 2) "
        "instead of waiting for it",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask distributed cluster (e.g. tcp://host:8786) instead of local processes",
    )
    p.add_argument(
        "--cell-timeout",
        type=_seconds,
        default=300,
        metavar="S",
        help="seconds one cell may run (default 300)",
    )
    p.add_argument(
        "--run-timeout",
        type=_seconds,
        default=900,
        metavar="S",
        help="seconds one notebook may run (default 900)",
    )
    _edition_parser(sub)
    _new_pair_parser(sub)
    _data_parsers(sub)
    return parser


def _data_parsers(sub) -> None:
    p = sub.add_parser(
        "data-request",
        help="write a spreadsheet for a city to fill with its own data",
        description="Write an Excel workbook (or one CSV) listing every input the workbooks "
        "read for CITY: its current value, level, quality and source, and columns to fill "
        "with a better figure. Assumed and missing inputs come first. Read it back with "
        "c3 data-import.",
    )
    p.add_argument("city", metavar="CITY", help="id of the city")
    p.add_argument(
        "--action", action="append", metavar="ID", help="only this workbook's inputs (repeatable)"
    )
    p.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="file to write (default: data-request-CITY.xlsx)",
    )
    p.add_argument(
        "--format",
        choices=["xlsx", "csv"],
        default=None,
        help="xlsx (default) or csv (default: from the --out suffix)",
    )
    _params_arg(p)

    p = sub.add_parser(
        "data-import",
        help="write a filled data request into the city's params file",
        description="Check every filled row of a data request (.xlsx or .csv) with the rules "
        "of c3 validate, show each change as old -> new, and write them into "
        "params/cities/<id>.yaml (level city), keeping its comments and layout. One bad row "
        "and nothing is written.",
    )
    p.add_argument("file", metavar="FILE", help="the filled .xlsx or .csv")
    p.add_argument("--dry-run", action="store_true", help="check and show the changes only")
    p.add_argument(
        "--accept-outliers",
        action="store_true",
        help="accept values ten or more times off the current ones (flagged in their note)",
    )
    _params_arg(p)


def _edition_parser(sub) -> None:
    p = sub.add_parser(
        "edition",
        help="write learner or mentor hand-out notebooks for a pair",
        description="Write <out>/<pair>/editions/<action>-<edition>.ipynb. The learner edition "
        "drops the cells tagged solution and mentor-note and clears outputs; the mentor edition "
        "keeps everything (with the outputs of an up-to-date build of the pair, if any).",
    )
    p.add_argument("edition", choices=["learner", "mentor"], help="which edition")
    p.add_argument("--pair", required=True, metavar="ID", help="the pair (required)")
    p.add_argument("--action", action="append", metavar="ID", help="only this action (repeatable)")
    _params_arg(p)
    p.add_argument(
        "--out", metavar="DIR", default="outputs", help="output folder (default: outputs/)"
    )


_PROFILE_OPTIONS = {
    "name": (str, "display name (default: from the id)"),
    "country": (str, "country"),
    "population": (float, "population [persons]"),
    "area_km2": (float, "land area [km2]"),
    "latitude": (float, "latitude, north positive [degrees]"),
    "longitude": (float, "longitude, east positive [degrees]"),
}


def _new_pair_parser(sub) -> None:
    p = sub.add_parser(
        "new-pair",
        help="scaffold a new pair (and any new city) in the params folder",
        description="Write params/pairs/<learning>-<mentor>.yaml with every action-list step "
        "not started, and params/cities/<id>.yaml for a city not yet known. Values not given "
        "are written as placeholders (quality assumed, source 'placeholder: ...') so the files "
        "validate; the command lists what still needs a real value.",
    )
    p.add_argument("mentor", metavar="MENTOR", help="id of the mentor city")
    p.add_argument("learning", metavar="LEARNING", help="id of the learning city")
    _params_arg(p)
    p.add_argument(
        "--focus", action="append", default=[], metavar="ACTION", help="focus action (repeatable)"
    )
    p.add_argument(
        "--source",
        default="",
        metavar="TEXT",
        help="document naming the roles and focus (without it both are recorded as assumed)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing pair file")
    g = p.add_argument_group("values for the new city (when one of the two is new)")
    for name, (kind, text) in _PROFILE_OPTIONS.items():
        metavar = "TEXT" if kind is str else "N"
        g.add_argument(f"--{name.replace('_', '-')}", type=kind, metavar=metavar, help=text)
    g.add_argument(
        "--values-source",
        default="",
        metavar="TEXT",
        help="where the values come from (without it they are flagged assumed)",
    )
    g.add_argument("--values-year", type=int, metavar="YEAR", help="year the values refer to")
    g = p.add_argument_group(
        "values by role (when both cities are new)",
        "--mentor-name, --mentor-country, --mentor-population, --mentor-area-km2, "
        "--mentor-latitude, --mentor-longitude, and the same with --learning-.",
    )
    for role in ("mentor", "learning"):
        for name, (kind, _) in _PROFILE_OPTIONS.items():
            g.add_argument(f"--{role}-{name.replace('_', '-')}", type=kind, help=argparse.SUPPRESS)


def _load(params: str | None):
    from c3lib.params import load_catalog

    return load_catalog(params)


def _report_errors(exc: C3Error) -> int:
    if isinstance(exc, ParamsErrors):
        print(f"c3: {len(exc.errors)} error(s) in params:", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
    else:
        print(f"c3: error: {exc}", file=sys.stderr)
    return EXIT_INVALID


def cmd_reference_problems() -> bool:
    """Report problems in the reference data on stderr; True if there were any."""
    from c3lib.topics.checks import check_all

    problems = check_all()
    if problems:
        print(f"c3: {len(problems)} problem(s) in the reference data:", file=sys.stderr)
        for msg in problems:
            print(f"  {msg}", file=sys.stderr)
    return bool(problems)


def cmd_validate(args) -> int:
    from c3lib.build.plan import check_parameters

    cat = _load(args.params)
    if cmd_reference_problems():
        return EXIT_INVALID
    errors = check_parameters(cat)
    if errors:
        return _report_errors(ParamsErrors(errors))
    print(
        f"ok: {len(cat.actions)} actions, {len(cat.pairs)} pairs, {len(cat.cities)} cities "
        f"in {cat.params_dir}"
    )
    return EXIT_OK


def cmd_list(args) -> int:
    from c3lib.build.plan import plan

    cat = _load(args.params)
    print("Actions:")
    for a in cat.actions.values():
        print(f"  {a.id:<26} {a.title}  [{a.notebook}]")
    print("Pairs:")
    for p in cat.pairs.values():
        focus = ", ".join(f.action + ("*" if f.basis == "assumed" else "") for f in p.focus)
        roles = "" if p.roles_basis == "sourced" else " (roles assumed)"
        print(f"  {p.id:<26} mentor {p.mentor}, learning {p.learning}{roles}; focus: {focus}")
    specs = plan(cat, args.out)
    print(
        f"A build would run {len(specs)} targets (pair × action with a notebook) into "
        f"{args.out}/  (* = assumed focus)"
    )
    return EXIT_OK


def cmd_build(args) -> int:
    from c3lib.build.store import output_lock

    def waiting(why: str) -> None:
        print(f"c3: {why} (Ctrl-C to stop; --no-wait to refuse instead)", flush=True)

    _check_before_build(args)
    if args.pdf:  # before anything runs: a build that cannot print says so at once
        from c3lib.build.pdf import check_pdf_tools

        check_pdf_tools()
    # One build writes into an output folder at a time (its index and data requests too).
    with output_lock(args.out, wait=not args.no_wait, on_wait=waiting):
        return _build_locked(args)


def _build_locked(args) -> int:
    from c3lib.build.batch import build
    from c3lib.build.plan import plan
    from c3lib.build.site import write_index
    from c3lib.build.store import up_to_date

    cat = _load(args.params)
    specs = plan(
        cat,
        args.out,
        args.pair,
        args.action,
        force=args.force,
        cell_timeout=args.cell_timeout,
        run_timeout=args.run_timeout,
    )
    if not specs:
        print("c3: nothing to build (no selected action has a notebook)", file=sys.stderr)
        return EXIT_INVALID
    _check_records(cat, args.out)
    to_run = sum(not up_to_date(s) for s in specs)
    # Up-to-date outputs were built with this reference data (its hash is in their cache
    # keys), which passed this check then: check it only when something is to run.
    if to_run and cmd_reference_problems():
        return EXIT_INVALID
    total = len(specs)
    jobs = max(1, min(args.jobs, to_run))  # never more workers than runs
    where = f"on {args.scheduler}" if args.scheduler else f"with {jobs} job(s)"
    print(f"Building {total} case studies into {args.out}/ {where}…", flush=True)
    done = 0
    started = time.monotonic()

    def progress(r) -> None:
        nonlocal done
        done += 1
        took = f"{r.seconds:5.1f} s" if r.status != "cached" else "up to date"
        line = f"[{done:>{len(str(total))}}/{total}] {r.status:<6} {r.pair}/{r.action} ({took})"
        if r.error:
            line += f"\n    {r.error}"
            if r.params_file:
                field = f", field {r.params_field}" if r.params_field else ""
                line += f"\n    from params: {r.params_file}{field}"
            if r.failed_cell is not None:
                count = f" (In [{r.execution_count}])" if r.execution_count is not None else ""
                line += f"\n    failing cell: cell {r.failed_cell}{count} of {r.failed_notebook}"
            elif r.failed_notebook:
                line += f"\n    executed notebook: {r.failed_notebook}"
        print(line, flush=True)

    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        results = build(specs, jobs=jobs, on_result=progress, scheduler=args.scheduler)
    except KeyboardInterrupt:
        write_index(cat, args.out)
        print(
            f"Interrupted after {done} of {total}; finished case studies are kept. "
            "Run the same command again to continue.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    from c3lib.datasheet import write_pair_requests

    write_pair_requests(cat, args.out, dict.fromkeys(s.pair for s in specs))
    index = write_index(cat, args.out)
    if args.pdf:
        _write_pdfs(args.out, results)
    failed = [r for r in results if r.status == "failed"]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "cached", "failed")}
    print(
        f"Done in {time.monotonic() - started:.1f} s: {counts['ok']} built, "
        f"{counts['cached']} up to date, {counts['failed']} failed. Index: {index}"
    )
    return EXIT_FAILED if failed else EXIT_OK


def _write_pdfs(out: str, results) -> None:
    """Print every built or up-to-date case study of this build to PDF (c3lib.build.pdf)."""
    from c3lib.build.pdf import write_pdfs
    from c3lib.build.store import target_paths

    pages = [target_paths(out, r.pair, r.action)["html"] for r in results if r.status != "failed"]
    printed = write_pdfs([p for p in pages if p.is_file()])
    for r in printed:
        wide = f"; {len(r.overflow)} element(s) wider than the page" if r.overflow else ""
        print(f"PDF: {r.pdf} ({r.pages} pages{wide})", flush=True)


def _check_before_build(args) -> None:
    """Refuse, before anything runs, a build that could only fail: each reason is a C3Error.

    The output folder must be a folder this process can write in (it is made if missing),
    the temporary folder short enough for kernel sockets, the scheduler an address.
    """
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise C3Error(f"--out {args.out}: is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".c3-write-test-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise C3Error(f"--out {args.out}: cannot write in it ({exc.strerror or exc})") from None
    tmp = tempfile.gettempdir()
    if len(tmp) > MAX_TMPDIR_CHARS:
        raise C3Error(
            f"TMPDIR {tmp[:40]}…: {len(tmp)} characters; kernel sockets need a temporary "
            f"folder of at most {MAX_TMPDIR_CHARS} (set TMPDIR=/tmp)"
        )
    if args.scheduler is not None and not _SCHEDULER.match(args.scheduler):
        raise C3Error(
            f"--scheduler {args.scheduler!r}: expected an address such as tcp://host:8786"
        )


def _check_records(cat, out: str) -> None:
    """Refuse recorded outputs that are JSON but not records (``[]``, a string, …).

    A record that does not parse counts as missing and is rebuilt; one that parses into
    something else would be trusted, so the build stops and names it.
    """
    from c3lib.build.store import target_paths

    for pair in cat.pairs:
        for action in cat.actions:
            paths = target_paths(out, pair, action)
            for key in ("json", "error"):
                path = paths[key]
                if not path.is_file():
                    continue
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                ok = isinstance(data, dict) and isinstance(data.get("provenance", {}), dict)
                if not ok:
                    raise C3Error(
                        f"{path}: not a run record (JSON {type(data).__name__}); "
                        "remove it and build again"
                    )


def cmd_edition(args) -> int:
    from c3lib.build.editions import write_editions

    written = write_editions(args.edition, args.pair, args.action, args.params, args.out)
    for e in written:
        origin = "outputs of the current build" if e.origin == "executed" else "no outputs"
        print(f"wrote {e.path} ({origin})")
    return EXIT_OK


def _new_pair_values(args) -> dict:
    """Profile values by city id: plain options go to the one new city, --<role>-X to a role."""
    by_role = {
        role: {n: getattr(args, f"{role}_{n}") for n in _PROFILE_OPTIONS}
        for role in ("mentor", "learning")
    }
    plain = {n: getattr(args, n) for n in _PROFILE_OPTIONS if getattr(args, n) is not None}
    if plain:
        cat = _load(args.params)
        new = [r for r in ("mentor", "learning") if getattr(args, r) not in cat.cities]
        options = ", ".join(f"--{n.replace('_', '-')}" for n in plain)
        if not new:
            raise C3Error(f"{options}: both cities already have a city file; edit it there")
        if len(new) == 2:
            raise C3Error(
                f"{options}: both cities are new; give their values with --mentor-… and "
                "--learning-… (e.g. --learning-population)"
            )
        for n, v in plain.items():
            if by_role[new[0]][n] is None:
                by_role[new[0]][n] = v
    return {
        getattr(args, role): {n: v for n, v in vals.items() if v is not None}
        for role, vals in by_role.items()
        if any(v is not None for v in vals.values())
    }


def cmd_new_pair(args) -> int:
    from c3lib.scaffold import new_pair

    result = new_pair(
        args.mentor,
        args.learning,
        args.params,
        focus=args.focus,
        values=_new_pair_values(args),
        source=args.source,
        values_source=args.values_source,
        values_year=args.values_year,
        force=args.force,
    )
    for path in result.written:
        print(f"wrote {path}")
    for note in result.notes:
        print(f"note: {note}")
    if result.todo:
        print("Still to fill (placeholders validate but are not real values):")
        for item in result.todo:
            print(f"  {item}")
    print(f"Next: c3 validate, then c3 build --pair {result.pair}")
    return EXIT_OK


def cmd_data_request(args) -> int:
    from pathlib import Path

    from c3lib.datasheet import write_request

    cat = _load(args.params)
    suffix = Path(args.out).suffix.lower().lstrip(".") if args.out else ""
    fmt = args.format or (suffix if suffix in ("xlsx", "csv") else "xlsx")
    if args.out and suffix != fmt:
        raise C3Error(f"--out {args.out}: the file name should end in .{fmt}")
    out = Path(args.out or f"data-request-{args.city}.{fmt}")
    path = write_request(cat, args.city, out, args.action, fmt)
    print(f"wrote {path}: the data request for {cat.cities[args.city].name}")
    print(f"Next: send it to the city; read the filled file back with: c3 data-import {path}")
    return EXIT_OK


def cmd_data_import(args) -> int:
    import math

    from c3lib.datasheet import SheetErrors, import_request

    def show(v: float, unit: str) -> str:
        return "—" if math.isnan(v) else f"{v:,.6g} {unit}"

    try:
        result = import_request(
            args.file, args.params, dry_run=args.dry_run, accept_outliers=args.accept_outliers
        )
    except SheetErrors as exc:
        if len(exc.errors) == 1:
            print(f"c3: error: {exc.file}: {exc.errors[0]}", file=sys.stderr)
        else:
            print(f"c3: {exc.file}: {len(exc.errors)} problems, nothing written:", file=sys.stderr)
            for e in exc.errors:
                print(f"  {e}", file=sys.stderr)
        return EXIT_INVALID
    if not result.changes:
        print(f"{args.file}: no filled rows; nothing to import")
        return EXIT_OK
    print(f"{len(result.changes)} change(s) for {result.city}:")
    for ch in result.changes:
        old = f"{show(ch.old_value, ch.old_unit)} ({ch.old_level}, {ch.old_quality})"
        new = f"{show(ch.value, ch.unit)} (city, {ch.quality})"
        flag = "  [outlier accepted]" if ch.outlier else ""
        print(f"  {ch.sheet}, row {ch.row}: {ch.field}: {old} -> {new}{flag}")
    if result.written:
        print(f"wrote {result.city_file}")
        print("Next: c3 build (re-runs the case studies that read this city)")
    else:
        print("dry run: nothing written")
    return EXIT_OK


COMMANDS = {
    "validate": cmd_validate,
    "list": cmd_list,
    "build": cmd_build,
    "edition": cmd_edition,
    "new-pair": cmd_new_pair,
    "data-request": cmd_data_request,
    "data-import": cmd_data_import,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``c3`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="c3: %(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (ParamsError, ParamsErrors, C3Error) as exc:
        return _report_errors(exc)
    except KeyboardInterrupt:
        print("c3: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a fault of the machine: a full disk, a folder gone
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"c3: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback; C3_DEBUG shows it
        if os.environ.get("C3_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(
            f"c3: unexpected error: {type(exc).__name__}: {first} (C3_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
