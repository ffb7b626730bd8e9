"""The case-study site: ``outputs/index.html`` and one comparison page per action.

- ``index.html`` lists every case study grouped by pair, with its status (built, failed —
  with the error and the last good build — or not built), filters by pair, action and
  status (a few lines of inline script; without script every row shows), the pair ×
  action progress grid from each pair's params, and links to the comparison pages.
- ``compare/<action>.html`` sets the headline metrics of every pair's run side by side,
  read from the ``<pair>/<action>.json`` records
  (:func:`c3lib.build.export.headline_metrics`).
- A run built on placeholder data for a city (:func:`c3lib.build.export.placeholder_inputs`)
  says so on its index row and on the compare page, where that city's values are marked.

Every page is one file with its styles inline that loads nothing and works from
``file://``. Every value from params or a record is HTML-escaped; a Content-Security-Policy
lets only the index's own script run.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from pathlib import Path

from c3lib.build.export import (
    TEMPLATE_NAME,
    TEMPLATES_DIR,
    headline_metrics,
    metric_rows,
    placeholder_inputs,
)
from c3lib.build.store import atomic_write, read_status, request_path
from c3lib.kit.casestudy import format_number
from c3lib.params import Catalog

__all__ = [
    "STATUS_LABELS",
    "progress_grid",
    "partner_measures",
    "top_gap",
    "collect_states",
    "index_html",
    "compare_html",
    "write_index",
]

#: Run status → what the site calls it.
STATUS_LABELS = {"ok": "built", "failed": "failed", "missing": "not built"}
COMPARE_DIR = "compare"

_STATIC = TEMPLATES_DIR / TEMPLATE_NAME / "static"

FILTER_SCRIPT = """\
(function () {
  var form = document.getElementById("c3-filters");
  var count = document.getElementById("c3-filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.c3-run"));
  var sections = document.querySelectorAll("section.c3-pair");
  function apply() {
    var want = {pair: form.elements.pair.value, action: form.elements.action.value,
                status: form.elements.status.value};
    var shown = 0;
    rows.forEach(function (row) {
      var ok = ["pair", "action", "status"].every(function (k) {
        return !want[k] || row.getAttribute("data-" + k) === want[k];
      });
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    Array.prototype.forEach.call(sections, function (section) {
      section.hidden = !section.querySelector("tr.c3-run:not([hidden])");
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " case studies.";
  }
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
})();
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _csp(script: str | None = None) -> str:
    """No request to anywhere; only inline styles, data: images and, if given, this script."""
    if script is None:
        scripts = "'none'"
    else:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        scripts = f"'sha256-{digest}'"
    return (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {scripts}; "
        "base-uri 'none'; form-action 'none'"
    )


def _page(title: str, body: str, script: str | None = None) -> str:
    css = (_STATIC / "base.css").read_text(encoding="utf-8")
    css += (_STATIC / "site.css").read_text(encoding="utf-8")
    js = f"\n<script>{script}</script>" if script else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="{_esc(_csp(script))}">
<link rel="icon" href="data:,">
<title>{_esc(title)}</title>
<style>
{css}</style>
</head>
<body class="c3-site">
<a class="c3-skip" href="#c3-main">Skip to the content</a>
{body}{js}
</body>
</html>
"""


def _placeholder_html(record: dict | None) -> str:
    """The "built on placeholder data" note of a run, or "" when its data are not placeholders."""
    flagged = [p for p in placeholder_inputs(record or {}) if p["flagged"]]
    return "".join(
        f'<br><span class="c3-badge c3-placeholder">placeholder data</span> '
        f'<span class="c3-placeholder-note">built on placeholder data for {_esc(p["name"])}: '
        f"{p['placeholders']} of {p['inputs']} inputs</span>"
        for p in flagged
    )


def _built_at(state: dict) -> str:
    prov = (state.get("record") or {}).get("provenance") or {}
    return str(prov.get("built_at") or "")


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


def collect_states(catalog: Catalog, out_dir: str | Path) -> dict[tuple[str, str], dict]:
    """:func:`c3lib.build.store.read_status` of every pair × action, keyed by (pair, action)."""
    return {(p, a): read_status(out_dir, p, a) for p in catalog.pairs for a in catalog.actions}


def _progress_text(g: dict) -> str:
    text = f"{g['done']} of {g['steps']} steps done"
    if g["in_progress"]:
        text += f", {g['in_progress']} in progress"
    return text


def _bar(g: dict) -> str:
    done = 100 * g["done"] / g["steps"] if g["steps"] else 0
    doing = 100 * g["in_progress"] / g["steps"] if g["steps"] else 0
    return (
        '<span class="c3-bar" aria-hidden="true">'
        f'<span class="c3-bar-done" style="width:{done:.0f}%"></span>'
        f'<span class="c3-bar-doing" style="width:{doing:.0f}%"></span></span>'
    )


def _run_row(catalog: Catalog, pair, action, state: dict, g: dict) -> str:
    status = state["status"]
    link = _esc(action.title)
    if state["record"] is not None:
        link = f'<a href="{_esc(pair.id)}/{_esc(action.id)}.html">{link}</a>'
    detail = ""
    if state["error"] is not None:
        err = state["error"]
        detail = f'<br><span class="c3-error">{_esc(err.get("error", ""))}</span>'
        if err.get("failed_cell") is not None:
            detail += f" (cell {_esc(err['failed_cell'])})"
        if err.get("executed_notebook"):
            detail += (
                f' <a href="{_esc(pair.id)}/{_esc(err["executed_notebook"])}">failed notebook</a>'
            )
        if state["record"] is not None:
            detail += " — showing the last good build"
    detail += _placeholder_html(state["record"])
    focus = ' <span class="c3-badge c3-focus">focus</span>' if g["focus"] else ""
    built = _built_at(state)
    return (
        f'<tr class="c3-run c3-status-{_esc(status)}" data-pair="{_esc(pair.id)}" '
        f'data-action="{_esc(action.id)}" data-status="{_esc(status)}">'
        f'<th scope="row">{link}{focus}</th>'
        f'<td><span class="c3-badge c3-status">{_esc(STATUS_LABELS[status])}</span>{detail}</td>'
        f"<td>{_bar(g)} {_esc(_progress_text(g))}</td>"
        f'<td><span class="c3-muted">{_esc(built[:16].replace("T", " ")) or "—"}</span></td>'
        "</tr>"
    )


def _roles_text(catalog: Catalog, pair, note: bool = True) -> str:
    mentor, learning = catalog.cities[pair.mentor], catalog.cities[pair.learning]
    text = (
        f"Mentor <strong>{_esc(mentor.name)}</strong> ({_esc(mentor.country)}), learning city "
        f"<strong>{_esc(learning.name)}</strong> ({_esc(learning.country)})."
    )
    if pair.roles_basis == "assumed":
        text += ' <span class="c3-badge c3-assumed">roles assumed</span>'
        if note:
            text += f" {_esc(pair.roles_note)}"
    return text


def _measure_text(m) -> str:
    years = f"{m.start_year}–{m.end_year}" if m.end_year else f"since {m.start_year}"
    return f"{m.measure} ({years})"


def partner_measures(catalog: Catalog, pair) -> list[tuple[str, list]]:
    """The mentor city's measures for each of the pair's focus actions (action title, list)."""
    mentor = catalog.cities[pair.mentor]
    out = []
    for f in pair.focus:
        found = sorted(
            (m for m in mentor.measures if m.action == f.action), key=lambda m: m.start_year
        )
        out.append((catalog.actions[f.action].title, found))
    return out


def _partner_html(catalog: Catalog, pair) -> str:
    mentor = catalog.cities[pair.mentor]
    items = []
    for title, found in partner_measures(catalog, pair):
        listed = "; ".join(_esc(_measure_text(m)) for m in found) or "none recorded"
        items.append(f"<li><strong>{_esc(title)}</strong>: {listed}</li>")
    if not items:
        return ""
    return (
        f'<p class="c3-muted">What {_esc(mentor.name)} has already done for the pair\'s focus '
        f'actions:</p><ul class="c3-measures">{"".join(items)}</ul>'
    )


def top_gap(catalog: Catalog, pair, states: dict[tuple[str, str], dict]) -> dict | None:
    """The pair's top data gap: the learning city's input that moves a headline most.

    Over the records' ``sensitivity`` rows of the pair's learning city, the largest
    ``share`` (swing over the headline, so that workbooks compare); with the action's title.
    """
    best = None
    for a in catalog.actions.values():
        record = (states.get((pair.id, a.id)) or {}).get("record") or {}
        for row in record.get("sensitivity") or []:
            if row.get("city") != pair.learning or not row.get("share"):
                continue
            if best is None or row["share"] > best["share"]:
                best = {**row, "action": a.title}
    return best


def _gap_html(catalog: Catalog, pair, states: dict[tuple[str, str], dict]) -> str:
    g = top_gap(catalog, pair, states)
    if g is None:
        return ""
    city = catalog.cities[pair.learning].name if pair.learning in catalog.cities else pair.learning
    pol = f" {g['pollutant']}" if g.get("pollutant") else ""
    return (
        f'<p class="c3-top-gap">Top data gap: <strong>{_esc(g.get("label") or g["field"])}'
        f"</strong> of {_esc(city)} ({_esc(g['action'])}): between its low and high plausible "
        f"value the headline{_esc(pol)} moves by {100 * g['share']:.0f} %.</p>"
    )


def _request_html(catalog: Catalog, pair, out_dir: str | Path) -> str:
    """A link to the learning city's data request, when the build wrote one."""
    path = request_path(out_dir, pair.id, pair.learning)
    if not path.is_file():
        return ""
    city = catalog.cities[pair.learning].name
    return (
        f'<p>Data to collect: <a href="{_esc(pair.id)}/{_esc(path.name)}">the data request for '
        f"{_esc(city)}</a> (a spreadsheet of every input its case studies read, assumed ones "
        "first, for the city's offices to fill in and return).</p>"
    )


def _measures_section(catalog: Catalog, action_id: str) -> str:
    """Which cities have which measures in place for one action (compare pages)."""
    rows = []
    for city in sorted(catalog.cities.values(), key=lambda c: c.name):
        found = sorted(
            (m for m in city.measures if m.action == action_id), key=lambda m: m.start_year
        )
        levers = sorted(
            {m.lever.replace("-", " ") for m in found if m.lever not in (None, "other")}
        )
        listed = "; ".join(_esc(_measure_text(m)) for m in found)
        note = _esc(city.measures_note) if not found and city.measures_note else "—"
        rows.append(
            f'<tr><th scope="row">{_esc(city.name)}</th>'
            f"<td>{_esc(', '.join(levers)) or '—'}</td>"
            f"<td>{listed or note}</td></tr>"
        )
    return (
        '<section aria-labelledby="measures-title"><h2 id="measures-title">Measures in place'
        "</h2><p>What each city of the programme has already done for this action item, "
        "from its params (each measure with its source in the case studies).</p>"
        '<div class="c3-scroll" tabindex="0" role="region" aria-label="Measures by city">'
        '<table class="c3-table"><thead><tr><th scope="col">City</th>'
        '<th scope="col">Levers</th><th scope="col">Measures</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{_esc(v)}">{_esc(t)}</option>' for v, t in options)
    return (
        f'<label>{_esc(label)} <select name="{_esc(name)}">'
        f'<option value="">All</option>{opts}</select></label>'
    )


def index_html(
    catalog: Catalog, out_dir: str | Path, states: dict[tuple[str, str], dict] | None = None
) -> str:
    """The index page (see module docstring)."""
    states = states if states is not None else collect_states(catalog, out_dir)
    grid = {(r["pair"], r["action"]): r for r in progress_grid(catalog)}
    counts = {k: sum(s["status"] == k for s in states.values()) for k in STATUS_LABELS}

    sections = []
    for pair in catalog.pairs.values():
        rows = "".join(
            _run_row(catalog, pair, a, states[(pair.id, a.id)], grid[(pair.id, a.id)])
            for a in catalog.actions.values()
        )
        sections.append(
            f'<section class="c3-pair" id="pair-{_esc(pair.id)}" '
            f'aria-labelledby="pair-{_esc(pair.id)}-title">'
            f'<h3 id="pair-{_esc(pair.id)}-title">{_esc(pair.name)}</h3>'
            f"<p>{_roles_text(catalog, pair)}</p>"
            f"{_partner_html(catalog, pair)}{_request_html(catalog, pair, out_dir)}"
            f"{_gap_html(catalog, pair, states)}"
            f'<div class="c3-scroll" tabindex="0" role="region" '
            f'aria-label="Case studies of {_esc(pair.name)}">'
            f'<table class="c3-table c3-runs"><thead><tr><th scope="col">Case study</th>'
            f'<th scope="col">Status</th><th scope="col">Action list</th>'
            f'<th scope="col">Built (UTC)</th></tr></thead><tbody>{rows}</tbody></table></div>'
            "</section>"
        )

    head = "".join(f'<th scope="col">{_esc(a.title)}</th>' for a in catalog.actions.values())
    grid_rows = []
    for pair in catalog.pairs.values():
        cells = []
        for a in catalog.actions.values():
            g = grid[(pair.id, a.id)]
            focus = ' <span class="c3-badge c3-focus">focus</span>' if g["focus"] else ""
            cells.append(f"<td>{_bar(g)} {_esc(_progress_text(g))}{focus}</td>")
        grid_rows.append(f'<tr><th scope="row">{_esc(pair.name)}</th>{"".join(cells)}</tr>')

    compare_items = []
    for a in catalog.actions.values():
        built = sum(states[(p, a.id)]["record"] is not None for p in catalog.pairs)
        compare_items.append(
            f'<li><a href="{COMPARE_DIR}/{_esc(a.id)}.html">{_esc(a.title)}</a> '
            f'<span class="c3-muted">({built} of {len(catalog.pairs)} pairs built)</span></li>'
        )

    filters = (
        '<form id="c3-filters" class="c3-filters c3-no-print" hidden '
        'aria-label="Filter the case studies">'
        + _select("pair", "Pair", [(p.id, p.name) for p in catalog.pairs.values()])
        + _select("action", "Action", [(a.id, a.title) for a in catalog.actions.values()])
        + _select("status", "Status", list(STATUS_LABELS.items()))
        + '<button type="reset">Show all</button>'
        '<p id="c3-filter-count" role="status" aria-live="polite"></p></form>'
    )
    total = len(states)
    body = f"""<header class="c3-site-header">
<h1>C3 Workbooks: case studies</h1>
<p>Clean Air Asia's City-to-City Cooperation (C3) programme pairs a mentor city with a learning
city. Each case study is one action item worked through for one pair, from the pair's params;
every figure carries its source or is flagged as assumed.</p>
<p>{total} case studies: {counts["ok"]} built, {counts["failed"]} failed,
{counts["missing"]} not built.</p>
<nav aria-label="On this page" class="c3-no-print"><a href="#case-studies">Case studies</a> ·
<a href="#progress">Action-list progress</a> · <a href="#compare">Compare pairs</a></nav>
</header>
<main id="c3-main">
<section id="case-studies" aria-labelledby="case-studies-title">
<h2 id="case-studies-title">Case studies</h2>
{filters}
{"".join(sections)}
</section>
<section id="progress" aria-labelledby="progress-title">
<h2 id="progress-title">Action-list progress</h2>
<p>Steps of each action list done and in progress, as recorded in each pair's params
(<code>params/pairs/&lt;pair&gt;.yaml</code>); the pair's focus actions are marked.</p>
<div class="c3-scroll" tabindex="0" role="region" aria-label="Action-list progress grid">
<table class="c3-table c3-grid"><caption>Pair × action progress</caption>
<thead><tr><th scope="col">Pair</th>{head}</tr></thead>
<tbody>{"".join(grid_rows)}</tbody></table></div>
</section>
<section id="compare" aria-labelledby="compare-title">
<h2 id="compare-title">Compare pairs</h2>
<p>One page per action with every pair's headline results side by side.</p>
<ul>{"".join(compare_items)}</ul>
</section>
</main>
<footer class="c3-site-footer"><p>Generated by C3 Workbooks on
{_esc(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))}. Every page works offline,
straight from the folder.</p></footer>"""
    return _page("C3 Workbooks: case studies", body, FILTER_SCRIPT)


def _key(row: dict) -> tuple:
    return (row["metric"], row["pollutant"], row["scope"], row["unit"])


def compare_html(catalog: Catalog, action_id: str, states: dict[tuple[str, str], dict]) -> str:
    """The comparison page of one action: every built pair's headline metrics side by side."""
    action = catalog.actions[action_id]
    built = [
        (pair, states[(pair.id, action_id)]["record"])
        for pair in catalog.pairs.values()
        if states[(pair.id, action_id)]["record"] is not None
    ]
    missing = [p for p in catalog.pairs.values() if states[(p.id, action_id)]["record"] is None]
    keys: dict[tuple, dict] = {}
    values: dict[str, dict[tuple, dict]] = {}
    for pair, record in built:
        values[pair.id] = {_key(r): r["values"] for r in metric_rows(record)}
        for r in headline_metrics(record):
            keys.setdefault(_key(r), r)
    roles = ["mentor", "learning"]
    if any("pair" in v for pv in values.values() for v in pv.values()):
        roles.append("pair")

    parts = [
        f'<header class="c3-site-header"><p class="c3-no-print"><a href="../index.html">'
        f"All case studies</a></p><h1>{_esc(action.title)}: the pairs side by side</h1>"
        f"<p>Headline results of every pair's case study, read from the run records "
        f"(<code>&lt;pair&gt;/{_esc(action.id)}.json</code>). Each pair runs the same "
        f"workbook on its own cities' data; values flagged as assumed in a case study are "
        f"assumed here too, so read them with that case study's assumptions table.</p>"
        "</header>",
        '<main id="c3-main">',
    ]
    if not built:
        parts.append("<p>No pair has a built case study for this action yet.</p>")
    else:
        marked = {
            pair.id: {p["role"] for p in placeholder_inputs(record) if p["flagged"]}
            for pair, record in built
        }
        # pairs in rows, metrics in row groups: the table keeps its width for any number of pairs
        head = ['<th scope="col">Pair</th>']
        for role in roles:
            if role != "pair":
                head.append(f'<th scope="col">{_esc(role.capitalize())} city</th>')
            head.append(f'<th scope="col" class="c3-num">{_esc(role.capitalize())}</th>')
        groups = []
        for key, row in keys.items():
            unit = f" [{_esc(row['unit'])}]" if row["unit"] else ""
            trs = [
                f'<tr class="c3-compare-metric"><th scope="rowgroup" colspan="{len(head)}">'
                f"{_esc(row['label'])}{unit}</th></tr>"
            ]
            for pair, record in built:
                got = values[pair.id].get(key, {})
                tds = []
                for role in roles:
                    if role != "pair":
                        city = (record.get("cities") or {}).get(role) or {}
                        tds.append(f"<td>{_esc(city.get('name', '—'))}</td>")
                    v = got.get(role)
                    if v is None:
                        tds.append('<td class="c3-num c3-muted">—</td>')
                    elif role in marked[pair.id]:
                        tds.append(
                            '<td class="c3-num c3-placeholder-value">'
                            f"{_esc(format_number(float(v)))} "
                            '<span class="c3-badge c3-placeholder">placeholder</span></td>'
                        )
                    else:
                        tds.append(f'<td class="c3-num">{_esc(format_number(float(v)))}</td>')
                trs.append(
                    f'<tr><th scope="row"><a href="../{_esc(pair.id)}/{_esc(action.id)}.html">'
                    f"{_esc(pair.name)}</a></th>{''.join(tds)}</tr>"
                )
            groups.append(f"<tbody>{''.join(trs)}</tbody>")
        parts.append(
            '<section aria-labelledby="headline-title"><h2 id="headline-title">Headline results'
            "</h2>"
            '<div class="c3-scroll" tabindex="0" role="region" '
            'aria-label="Table of headline results by pair">'
            f'<table class="c3-table c3-compare"><caption>{_esc(action.title)}: headline results '
            f"by pair, one group of rows per result (— where a pair's run did not record "
            f"it)</caption><thead><tr>{''.join(head)}</tr></thead>"
            f"{''.join(groups)}</table></div></section>"
        )
        banner = [
            f"<p><strong>{_esc(pair.name)}: built on placeholder data for {_esc(p['name'])}: "
            f"{p['placeholders']} of {p['inputs']} inputs</strong></p>"
            for pair, record in built
            for p in placeholder_inputs(record)
            if p["flagged"]
        ]
        if banner:
            parts.insert(
                2,
                '<section class="c3-placeholder-banner" role="note" '
                'aria-label="Built on placeholder data">'
                + "".join(banner)
                + "<p>Their values are marked "
                '<span class="c3-badge c3-placeholder">placeholder</span>: placeholders '
                "written by <code>c3 new-pair</code> or global defaults, not the city's own "
                "figures.</p></section>",
            )
        runs = []
        for pair, record in built:
            steps = record.get("steps", [])
            done = sum(s.get("status") == "done" for s in steps)
            focus = ' <span class="c3-badge c3-focus">focus</span>' if record.get("focus") else ""
            state = states[(pair.id, action_id)]
            failed = (
                ' <span class="c3-error">(latest run failed; this is the last good build)</span>'
                if state["error"] is not None
                else ""
            )
            runs.append(
                f'<tr><th scope="row"><a href="../{_esc(pair.id)}/{_esc(action.id)}.html">'
                f"{_esc(record.get('pair_name', pair.name))}</a>{focus}{failed}"
                f"{_placeholder_html(record)}</th>"
                f"<td>{_roles_text(catalog, pair, note=False)}</td>"
                f"<td>{done} of {len(steps)} steps done</td>"
                f"<td>{len(record.get('assumptions', []))}</td>"
                f'<td><span class="c3-muted">{_esc(_built_at(state)[:16].replace("T", " "))}'
                "</span></td></tr>"
            )
        parts.append(
            '<section aria-labelledby="runs-title"><h2 id="runs-title">The case studies</h2>'
            '<div class="c3-scroll" tabindex="0" role="region" '
            'aria-label="Table of the case studies">'
            '<table class="c3-table"><thead><tr><th scope="col">Pair</th>'
            '<th scope="col">Cities</th><th scope="col">Action list</th>'
            '<th scope="col">Assumptions</th><th scope="col">Built (UTC)</th></tr></thead>'
            f"<tbody>{''.join(runs)}</tbody></table></div></section>"
        )
    parts.append(_measures_section(catalog, action_id))
    if missing:
        names = ", ".join(_esc(p.name) for p in missing)
        parts.append(f"<p>Not built for this action: {names}.</p>")
    parts.append("</main>")
    return _page(f"{action.title}: pairs compared · C3 Workbooks", "\n".join(parts))


def write_index(catalog: Catalog, out_dir: str | Path) -> Path:
    """Write ``<out_dir>/index.html`` and ``<out_dir>/compare/<action>.html``; return the index."""
    out = Path(out_dir)
    states = collect_states(catalog, out)
    for action_id in catalog.actions:
        atomic_write(
            out / COMPARE_DIR / f"{action_id}.html", compare_html(catalog, action_id, states)
        )
    path = out / "index.html"
    atomic_write(path, index_html(catalog, out, states))
    return path
