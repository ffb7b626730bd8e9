"""The case-study site: ``outputs/index.html`` linking every case study, with each run's status."""

from __future__ import annotations

import html
from pathlib import Path

from c3lib.params import Catalog
from c3lib.pipeline import atomic_write, read_status

__all__ = ["index_html", "write_index", "progress_grid"]

_STATUS_LABEL = {"ok": "built", "failed": "failed", "missing": "not built"}


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def progress_grid(catalog: Catalog) -> list[dict]:
    """Pair × action progress: steps done, in progress and total, from each pair's params."""
    rows = []
    for pair in catalog.pairs.values():
        for action in catalog.actions.values():
            recorded = pair.progress.get(action.id, {})
            statuses = [
                recorded[s.id].status if s.id in recorded else "not-started" for s in action.steps
            ]
            rows.append(
                {
                    "pair": pair.id,
                    "action": action.id,
                    "steps": len(statuses),
                    "done": statuses.count("done"),
                    "in_progress": statuses.count("in-progress"),
                    "focus": any(f.action == action.id for f in pair.focus),
                }
            )
    return rows


def index_html(catalog: Catalog, out_dir: str | Path) -> str:
    """The index page: every case study grouped by pair, with status and action-list progress."""
    grid = {(r["pair"], r["action"]): r for r in progress_grid(catalog)}
    sections = []
    for pair in catalog.pairs.values():
        mentor, learning = catalog.cities[pair.mentor], catalog.cities[pair.learning]
        roles = f"mentor {_esc(mentor.name)}, learning city {_esc(learning.name)}"
        if pair.roles_basis == "assumed":
            roles += ' <span class="c3-assumed">roles assumed</span>'
        items = []
        for action in catalog.actions.values():
            state = read_status(out_dir, pair.id, action.id)
            g = grid[(pair.id, action.id)]
            status = state["status"]
            link = _esc(action.title)
            if state["record"] is not None:
                link = f'<a href="{_esc(pair.id)}/{_esc(action.id)}.html">{link}</a>'
            detail = ""
            if state["error"] is not None:
                err = state["error"]
                detail = f' <span class="c3-error">{_esc(err.get("error", ""))}</span>'
                if err.get("executed_notebook"):
                    detail += (
                        f' (<a href="{_esc(pair.id)}/{_esc(err["executed_notebook"])}">'
                        f"failed notebook</a>)"
                    )
                if state["record"] is not None:
                    detail += " — showing the last good build"
            focus = ' <span class="c3-focus">focus</span>' if g["focus"] else ""
            items.append(
                f'<tr class="c3-run c3-status-{_esc(status)}" data-pair="{_esc(pair.id)}" '
                f'data-action="{_esc(action.id)}" data-status="{_esc(status)}">'
                f"<td>{link}{focus}</td><td>{_esc(_STATUS_LABEL[status])}{detail}</td>"
                f"<td>{g['done']} done, {g['in_progress']} in progress of {g['steps']} steps"
                f"</td></tr>"
            )
        sections.append(
            f'<section id="{_esc(pair.id)}"><h2>{_esc(pair.name)}</h2><p>{roles}</p>'
            f'<table class="c3-table"><thead><tr><th scope="col">Case study</th>'
            f'<th scope="col">Status</th><th scope="col">Action list</th></tr></thead>'
            f"<tbody>{''.join(items)}</tbody></table></section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1.0"/>
<title>C3 Workbooks: case studies</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 0 auto; padding: 1rem; }}
table.c3-table {{ border-collapse: collapse; width: 100%; }}
table.c3-table th, table.c3-table td {{ text-align: left; border-bottom: 1px solid #ddd;
  padding: 0.3rem; }}
.c3-assumed, .c3-focus {{ background: #fff3cd; color: #5c4400; padding: 0 0.3em;
  border-radius: 3px; font-size: 0.85em; }}
.c3-focus {{ background: #d1e7dd; color: #0f5132; }}
.c3-status-failed td {{ color: #8a1c1c; }}
</style></head>
<body><main>
<h1>C3 Workbooks: case studies</h1>
<p>Clean Air Asia's City-to-City Cooperation (C3) programme pairs a mentor city with a learning
city. Each case study is one action item worked through for one pair.</p>
{"".join(sections)}
</main></body></html>
"""


def write_index(catalog: Catalog, out_dir: str | Path) -> Path:
    """Write ``<out_dir>/index.html`` and return its path."""
    path = Path(out_dir) / "index.html"
    atomic_write(path, index_html(catalog, out_dir))
    return path
