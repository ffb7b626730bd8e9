"""The HTML case study: summary, contents, figures, math, code folding, safety, offline."""

from __future__ import annotations

import base64
import io
import json
import re
import sys

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from c3lib.build.batch import run
from c3lib.build.export import (
    APPENDIX_TITLE,
    CASE_STUDY_CSP,
    export_html,
    find_record,
    headline_metrics,
    metric_rows,
    prepare,
    sanitize_html,
    summary_context,
    tex_to_mathml,
)
from c3lib.build.plan import plan
from c3lib.build.store import target_paths
from c3lib.kit.casestudy import RECORD_MIME
from c3lib.params import load_catalog
from tests.conftest import edit_yaml, make_notebook

EVIL = "<script>alert(1)</script>"
EVIL_TEXT = "&lt;script&gt;alert(1)&lt;/script&gt;"
PROVENANCE = {
    "c3lib_version": "0.1.0",
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "params_hash": "feedfacecafebeef" * 4,
    "built_at": "2024-05-01T10:00:00+00:00",
    "parameters": {"pair": "pasig-taipei"},
}


def make_record(**changes) -> dict:
    """A run record as c3lib.casestudy.record writes it."""
    rec = {
        "pair": "pasig-taipei",
        "action": "bike-sharing",
        "title": "Public bike-sharing",
        "pair_name": "Pasig–Taipei",
        "cities": {
            "mentor": {"id": "taipei", "name": "Taipei", "country": "Taiwan"},
            "learning": {"id": "pasig", "name": "Pasig", "country": "Philippines"},
        },
        "roles_basis": "assumed",
        "focus": True,
        "steps": [
            {"step": 1, "id": "goals", "title": "Set goals", "status": "done", "date": "2024-01-02",
             "note": "agreed"},
            {"step": 2, "id": "size", "title": "Size it", "status": "in-progress", "date": "",
             "note": ""},
            {"step": 3, "id": "plan", "title": "Plan it", "status": "not-started", "date": "",
             "note": ""},
        ],
        "metrics": [
            {"city": "taipei", "metric": "stations_needed", "value": 130.0, "unit": "stations"},
            {"city": "pasig", "metric": "stations_needed", "value": 45.0, "unit": "stations"},
            {"city": "taipei", "metric": "avoided_emissions", "value": 1.5, "unit": "t/yr",
             "pollutant": "PM2.5", "scope": "planned"},
            {"city": "pasig", "metric": "avoided_emissions", "value": 0.25, "unit": "t/yr",
             "pollutant": "PM2.5", "scope": "planned"},
            {"city": "pair", "metric": "cities_compared", "value": 2.0, "unit": "cities"},
        ],
        "assumptions": [
            {"city": "pair", "input": "roles", "value": "mentor taipei", "unit": "",
             "basis": "no source", "source": "assumption"},
            {"city": "pasig", "input": "trips", "value": 2.0, "unit": "trips/bike/day",
             "basis": "default", "source": "ITDP 2018"},
        ],
        "sources": ["ITDP 2018", "Taipei DOT 2023"],
    }  # fmt: skip
    rec.update(changes)
    return rec


def png_bytes() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=20)
    plt.close(fig)
    return buf.getvalue()


def case_notebook(record: dict | None = None, extra_cells=()) -> nbformat.NotebookNode:
    """An executed-looking workbook: title, sections, a figure output, the record."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('pair: str = "pasig-taipei"  # city-pair id')
    params.metadata["tags"] = ["parameters"]
    plot = nbformat.v4.new_code_cell("fig")
    png = base64.b64encode(png_bytes()).decode()
    plot.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": png, "text/plain": "<Figure size 100x100 with 1 Axes>"},
        )
    ]
    published = nbformat.v4.new_code_cell("cs.publish(case, metrics, assumptions, sources)")
    if record is not None:
        published.outputs = [
            nbformat.v4.new_output(
                "display_data", data={RECORD_MIME: record, "text/plain": "Recorded 5 metrics"}
            )
        ]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Public bike-sharing: a case study\n\nIntro."),
        nbformat.v4.new_markdown_cell("## Overview\n\nWhat you will do."),
        params,
        nbformat.v4.new_markdown_cell("## Results\n\n### Per city\n\nText."),
        plot,
        nbformat.v4.new_markdown_cell("## Results\n\nThe same heading twice."),
        *extra_cells,
        nbformat.v4.new_markdown_cell("## Assumptions and data gaps\n\nTable."),
        nbformat.v4.new_markdown_cell("## Sources"),
        published,
    ]
    return nb


def soup_of(page: str) -> BeautifulSoup:
    return BeautifulSoup(page, "html.parser")


# --- record helpers ------------------------------------------------------------------------


def test_find_record_returns_published_record():
    rec = make_record()
    assert find_record(case_notebook(rec)) == rec
    assert find_record(case_notebook(None)) is None


def test_metric_rows_side_by_side_by_role():
    rows = metric_rows(make_record())
    # 5 metric records → 3 rows: stations (mentor 130, learning 45), avoided PM2.5
    # (mentor 1.5, learning 0.25), and the pair-level count (pair 2)
    assert [r["metric"] for r in rows] == [
        "stations_needed",
        "avoided_emissions",
        "cities_compared",
    ]
    assert rows[0]["values"] == {"mentor": 130.0, "learning": 45.0}
    assert rows[1]["values"] == {"mentor": pytest.approx(1.5), "learning": pytest.approx(0.25)}
    assert rows[1]["label"] == "Avoided emissions, PM2.5 (planned)"
    assert rows[2]["values"] == {"pair": 2.0}


def test_headline_metrics_prefers_totals():
    rec = make_record()
    rec["metrics"] += [
        {"city": "taipei", "metric": "emissions", "value": 9.0, "unit": "t/yr",
         "pollutant": "NOx", "scope": "total"},
        {"city": "pasig", "metric": "emissions", "value": 3.0, "unit": "t/yr",
         "pollutant": "NOx", "scope": "total"},
    ]  # fmt: skip
    rows = headline_metrics(rec)
    assert [(r["metric"], r["scope"]) for r in rows] == [("emissions", "total")]
    assert rows[0]["values"] == {"mentor": 9.0, "learning": 3.0}


def test_headline_metrics_first_rows_up_to_limit():
    rec = make_record()
    assert [r["metric"] for r in headline_metrics(rec, limit=2)] == [
        "stations_needed",
        "avoided_emissions",
    ]


def test_summary_context_counts_steps_and_columns():
    ctx = summary_context(make_record(), PROVENANCE)
    # steps: one done, one in progress, one not started
    assert (ctx["steps_done"], ctx["steps_in_progress"], ctx["steps_not_started"]) == (1, 1, 1)
    assert ctx["columns"] == ["mentor", "learning", "pair"]
    assert ctx["roles_assumed"] and ctx["focus"]
    assert (ctx["n_assumptions"], ctx["n_pair_assumptions"], ctx["n_sources"]) == (2, 1, 2)
    assert ctx["headline"][1]["shown"] == {"mentor": "1.5", "learning": "0.25"}
    assert ctx["commit_short"] == "0123456789ab"


def test_tex_to_mathml_inline_and_block():
    inline = tex_to_mathml(r"E_p = A \sum_m S_m")
    assert inline.startswith("<math ") and 'display="inline"' in inline
    assert 'alttext="E_p = A \\sum_m S_m"' in inline
    assert 'display="block"' in tex_to_mathml("x^2", display=True)


def test_tex_to_mathml_without_converter_shows_escaped_tex(monkeypatch):
    monkeypatch.setitem(sys.modules, "latex2mathml.converter", None)
    assert tex_to_mathml("a < b") == '<code class="c3-tex">a &lt; b</code>'


def test_prepare_gives_plain_images_alt_text_from_their_section():
    nb = prepare(case_notebook(make_record()))
    (out,) = nb.cells[4].outputs
    assert "“Per city”" in out.metadata["c3_alt"]  # the last heading, not the bare repr
    assert nb.cells[0].metadata["c3"]["summary_after"]
    assert nb.metadata["title"] == "Public bike-sharing: Pasig–Taipei"


def test_prepare_uses_descriptive_text_plain_as_alt():
    nb = case_notebook(make_record())
    nb.cells[4].outputs[0].data["text/plain"] = "Stations per city, bar chart"
    assert prepare(nb).cells[4].outputs[0].metadata["c3_alt"] == "Stations per city, bar chart"


# --- the page ---------------------------------------------------------------------------


def test_export_html_summary_follows_title():
    page = export_html(case_notebook(make_record()), PROVENANCE)
    soup = soup_of(page)
    h1 = soup.find("h1")
    summary = soup.find("section", class_="c3-summary")
    assert h1.get_text(strip=True) == "Public bike-sharing: a case study"
    assert h1.find_parent(class_="jp-Cell").find_next_sibling() is summary
    text = " ".join(summary.get_text(" ", strip=True).split())
    assert "Pasig–Taipei" in text and "roles assumed" in text and "focus action" in text
    assert "1 of 3 steps done, 1 in progress, 1 not started" in text
    headline = summary.find("table", class_="c3-headline")
    cells = [td.get_text(strip=True) for td in headline.find("tbody").find_all("td")]
    # stations: 130 | 45 | — ; avoided PM2.5: 1.5 | 0.25 | — ; pair count: — | — | 2
    assert cells == [
        "stations", "130", "45", "—",
        "t/yr", "1.5", "0.25", "—",
        "cities", "—", "—", "2",
    ]  # fmt: skip
    assert soup.title.get_text() == "Public bike-sharing: Pasig–Taipei"


def test_export_html_summary_on_top_without_title_cell():
    nb = case_notebook(make_record())
    nb.cells[0].source = "Intro without a title."
    main = soup_of(export_html(nb)).find("main")
    assert main.find(True).name == "section" and "c3-summary" in main.find(True)["class"]


def test_export_html_summary_links_assumptions_and_sources():
    soup = soup_of(export_html(case_notebook(make_record()), PROVENANCE))
    summary = soup.find("section", class_="c3-summary")
    links = {a.get_text(): a["href"] for a in summary.find_all("a")}
    targets = {k: soup.find(id=v[1:]) for k, v in links.items()}
    assert targets["Assumptions and data gaps"].get_text() == "Assumptions and data gaps"
    assert targets["Sources"].get_text() == "Sources"


def test_export_html_summary_without_sections_keeps_plain_text():
    nb = case_notebook(make_record())
    nb.cells = [c for c in nb.cells if "Sources" not in c.source]
    summary = soup_of(export_html(nb)).find("section", class_="c3-summary")
    assert "Sources" in summary.get_text() and "Sources" not in [
        a.get_text() for a in summary.find_all("a")
    ]


def test_export_html_toc_links_land_on_unique_headings():
    soup = soup_of(export_html(case_notebook(make_record()), PROVENANCE))
    links = soup.select("nav.c3-toc ol.c3-toc-list a")
    ids = [a["href"][1:] for a in links]
    assert len(ids) == len(set(ids))
    for a in links:
        target = soup.find(id=a["href"][1:])
        assert target is not None and target.name in ("h2", "h3"), a
        assert target.get_text(" ", strip=True) == a.get_text()
    texts = [a.get_text() for a in links]
    assert texts[:2] == ["Summary", "Headline results"]
    assert texts.count("Results") == 2  # the repeated heading gets a second, distinct id
    nested = soup.select("nav.c3-toc ol.c3-toc-list > li > ol > li > a")
    assert "Per city" in [a.get_text() for a in nested]
    all_ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(all_ids) == len(set(all_ids))


def test_export_html_every_image_has_alt_text():
    fig = nbformat.v4.new_code_cell("cs.show_figure(fig, ...)")
    fig.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": '<figure class="c3-figure"><img src="data:image/png;base64,AA==" '
                  'alt="Bars per city"/><figcaption>Stations</figcaption></figure>'},
        )
    ]  # fmt: skip
    md_image = nbformat.v4.new_markdown_cell("![](data:image/png;base64,AA==)")
    soup = soup_of(export_html(case_notebook(make_record(), [fig, md_image])))
    imgs = soup.find_all("img")
    assert len(imgs) == 3
    assert all(img.get("alt", "").strip() for img in imgs)
    assert "Bars per city" in [img["alt"] for img in imgs]


def test_export_html_folds_code_per_cell():
    soup = soup_of(export_html(case_notebook(make_record())))
    folds = soup.select("details.c3-code")
    assert folds and all(not d.has_attr("open") for d in folds)
    assert "Show parameters" in [d.summary.get_text() for d in folds]
    assert "cs.publish" in soup.get_text()


def test_export_html_hide_leaves_code_out():
    page = export_html(case_notebook(make_record()), code="hide")
    assert not soup_of(page).select("details.c3-code") and "cs.publish" not in page
    with pytest.raises(ValueError, match="code must be one of"):
        export_html(case_notebook(make_record()), code="show")


def test_export_html_cell_tags_remove_cells_inputs_outputs():
    removed = nbformat.v4.new_code_cell("secret_cell = 1")
    removed.metadata["tags"] = ["remove-cell"]
    no_input = nbformat.v4.new_code_cell("secret_input = 2")
    no_input.metadata["tags"] = ["remove-input"]
    no_input.outputs = [nbformat.v4.new_output("stream", text="visible output\n")]
    no_output = nbformat.v4.new_code_cell("shown_input = 3")
    no_output.metadata["tags"] = ["remove-output"]
    no_output.outputs = [nbformat.v4.new_output("stream", text="hidden output\n")]
    page = export_html(case_notebook(make_record(), [removed, no_input, no_output]))
    assert "secret_cell" not in page and "secret_input" not in page
    assert "visible output" in page
    assert "shown_input" in page and "hidden output" not in page


def test_export_html_math_is_mathml():
    md = nbformat.v4.new_markdown_cell(r"Inline $N_{st} = A \cdot d$ and $$E = \sum_m e_m$$")
    soup = soup_of(export_html(case_notebook(make_record(), [md])))
    maths = soup.find_all("math")
    assert [m["display"] for m in maths] == ["inline", "block"]
    assert maths[0]["alttext"] == r"N_{st} = A \cdot d"
    assert "$" not in soup.find_all("div", class_="jp-MarkdownCell")[-3].get_text()


def test_export_html_provenance_footer():
    soup = soup_of(export_html(case_notebook(make_record()), PROVENANCE))
    footer = " ".join(soup.find("footer", class_="c3-provenance").get_text(" ").split())
    assert "c3lib 0.1.0" in footer
    assert "Commit 0123456789ab" in footer and "Params hash feedfacecafe" in footer
    assert "Built 2024-05-01T10:00:00+00:00" in footer
    assert "pair = pasig-taipei" in footer
    assert soup.find("footer").find("a", href="bike-sharing.json")


def test_export_html_without_record_or_provenance():
    soup = soup_of(export_html(case_notebook(None)))
    assert soup.find("section", class_="c3-summary") is None
    assert "none (not built from a git checkout)" in soup.find("footer").get_text()


def test_export_html_escapes_every_record_value():
    city = {"id": "pasig", "name": EVIL, "country": EVIL}
    rec = make_record(
        title=EVIL,
        pair_name=EVIL,
        cities={"mentor": {"id": "taipei", "name": EVIL, "country": "x"}, "learning": city},
    )
    rec["steps"][0].update(title=EVIL, note=EVIL, date=EVIL)
    rec["metrics"][0].update(unit=EVIL)
    prov = {**PROVENANCE, "built_at": EVIL, "parameters": {"pair": EVIL}}
    page = export_html(case_notebook(rec), prov)
    assert EVIL not in page and "<script" not in page
    assert page.count(EVIL_TEXT) >= 8


def test_export_html_is_offline_and_runs_no_script():
    hostile = nbformat.v4.new_code_cell("display(...)")
    hostile.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<script>alert(2)</script><img src="https://example.org/x.png" '
                'alt="remote" onerror="alert(3)"><iframe src="https://example.org"></iframe>'
                '<link rel="stylesheet" href="https://example.org/x.css">'
                '<a href="javascript:alert(4)">x</a>'
                "<style>@import url(https://example.org/y.css); "
                "p { background: url(https://example.org/z.png); }</style>",
                "application/javascript": "alert(5)",
            },
        )
    ]
    md = nbformat.v4.new_markdown_cell("![remote chart](https://example.org/chart.png)")
    page = export_html(case_notebook(make_record(), [hostile, md]))
    soup = soup_of(page)
    assert soup.find_all("script") == [] and soup.find_all("iframe") == []
    assert not re.search(r"alert\(", page)
    assert "example.org" not in page
    srcs = [t.get("src") for t in soup.find_all(src=True)]
    assert srcs and all(s.startswith("data:") for s in srcs)
    assert all(not a.startswith("on") for t in soup.find_all(True) for a in t.attrs)
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp["content"] == CASE_STUDY_CSP and "script-src 'none'" in CASE_STUDY_CSP
    links = soup.find_all("link")
    assert [link["href"] for link in links] == ["data:,"]  # the favicon only: no request


def test_export_html_drops_widget_state_and_views():
    nb = case_notebook(make_record())
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[4].outputs[0].data["application/vnd.jupyter.widget-view+json"] = {"model_id": "x"}
    page = export_html(nb)
    assert "widget-state" not in page and "widget-view" not in page


def test_export_html_print_stylesheet():
    page = export_html(case_notebook(make_record()))
    css = "".join(s.get_text() for s in soup_of(page).find_all("style"))
    prints = re.findall(r"@media print \{(.*?)\n\}", css, re.S)
    assert prints, "no print stylesheet"
    rules = "".join(prints)
    assert "details.c3-code" in rules and "display: none" in rules
    assert "break-inside: avoid" in rules and "@page" in rules


# --- end to end ------------------------------------------------------------------------


@pytest.mark.slow
def test_export_html_escapes_params_end_to_end(tmp_path, params_dir):
    """City and pair names from params show as text in the built case study."""
    edit_yaml(params_dir / "cities" / "pasig.yaml", lambda d: d.update(name=EVIL))
    edit_yaml(params_dir / "pairs" / "pasig-taipei.yaml", lambda d: d.update(name=EVIL))
    make_notebook(
        tmp_path / "nbs" / "emissions_inventory.ipynb",
        "from c3lib.kit import casestudy as cs\n"
        "cs.show_context(cs.load_case(pair, 'emissions-inventory', params_dir))",
    )
    (spec,) = plan(
        load_catalog(params_dir),
        tmp_path / "out",
        pairs=["pasig-taipei"],
        actions=["emissions-inventory"],
        notebooks_dir=tmp_path / "nbs",
    )
    assert run(spec).status == "ok"
    paths = target_paths(tmp_path / "out", "pasig-taipei", "emissions-inventory")
    page = paths["html"].read_text(encoding="utf-8")
    assert EVIL not in page and "<script" not in page
    assert page.count(EVIL_TEXT) >= 4  # context, summary (pair, learning city), title
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["pair_name"] == EVIL


# --- sanitising what notebooks put on the page ---------------------------------------------

#: One hijack per entry, as it could reach a page through a params string or an output.
HIJACKS = {
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/meta">',
    "style-block": "<style>/* c3-blank */ body, main { display: none !important; }</style>",
    "js-link": '<a href="jav&#x09;ascript:alert(11)">click js</a>',
    "vbs-link": '<a href="vbscript:msgbox(12)">click vbs</a>',
    "data-html-link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxMyk8L3NjcmlwdD4=">d</a>',
    "remote-link": '<a href="https://evil.example/link">remote link</a>',
    "relative-link": '<a href="../../secrets.html">relative link</a>',
    "relative-img": '<img src="x.png" alt="relative image">',
    "remote-img": '<img src="https://evil.example/a.png" alt="remote image">',
    "svg-data-img": '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="svg image">',
    "srcset-img": '<img srcset="https://evil.example/s.png 2x" alt="srcset image">',
    "svg-image": '<svg><image href="https://evil.example/svg.png"/>'
    '<a xlink:href="javascript:alert(14)"><text>svg link</text></a></svg>',
    "base": '<base href="https://evil.example/base/">',
    "form": '<form action="https://evil.example/form"><input name="q">'
    '<button formaction="https://evil.example/button">Send</button></form>',
    "onerror": '<img src="data:image/png;base64,AAAA" alt="handler image" onerror="alert(15)">'
    '<div onmouseover="alert(16)">handler div</div>',
    "css-escape": '<div style="background:url(\\6a avascript:alert(17)); '
    'background-image: url(https://evil.example/css.png)">css escape</div>',
    "frames": '<iframe src="https://evil.example/frame"></iframe>'
    '<object data="https://evil.example/obj"></object><embed src="https://evil.example/e">',
    "stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "script": "<script>alert(18)</script>",
    "math-href": '<math><mi href="javascript:alert(19)">m</mi>'
    '<annotation-xml encoding="text/html"><img src="x" onerror="alert(20)"></annotation-xml>'
    "</math>",
}
PNG_DATA = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
#: What a case study legitimately carries, in HTML outputs.
NORMAL_HTML = (
    '<table class="c3-table dataframe"><caption>Normal table</caption><thead>'
    '<tr style="text-align: right;"><th halign="left" colspan="2">Head</th></tr></thead>'
    '<tbody><tr><th rowspan="1" valign="top">Row</th><td>42</td></tr></tbody></table>'
    f'<figure class="c3-figure"><img src="{PNG_DATA}" alt="Normal figure">'
    "<figcaption>Normal caption</figcaption></figure>"
    '<details class="c3-details"><summary>Normal details</summary><p>Inside</p></details>'
    '<ol class="c3-sources"><li>ITDP 2018, https://www.itdp.org/ (a source, as text)</li></ol>'
)
NORMAL_MARKDOWN = (
    "## Normal section\n\n**Bold** and *em*, a [link to the results](#results) and "
    r"$E = \sum_m e_m$." "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
)  # fmt: skip


def hijack_notebook() -> nbformat.NotebookNode:
    """A case notebook with every hijack in an HTML output, a Markdown output, a Markdown
    cell and an HTML raw cell, each on its own, beside normal content."""
    cells = []
    for name, payload in HIJACKS.items():
        as_html = nbformat.v4.new_code_cell(f"display(HTML({name!r}))")
        as_html.outputs = [
            nbformat.v4.new_output("display_data", data={"text/html": payload, "text/plain": name})
        ]
        as_md = nbformat.v4.new_code_cell(f"display(Markdown({name!r}))")
        as_md.outputs = [
            nbformat.v4.new_output(
                "display_data",
                data={"text/markdown": f"City **{name}** {payload}", "text/plain": name},
            )
        ]
        raw = nbformat.v4.new_raw_cell(payload)
        raw.metadata["raw_mimetype"] = "text/html"
        cells += [as_html, as_md, nbformat.v4.new_markdown_cell(f"Cell {name}: {payload}"), raw]
    normal = nbformat.v4.new_code_cell("cs.show_table(...)")
    normal.outputs = [nbformat.v4.new_output("display_data", data={"text/html": NORMAL_HTML})]
    mermaid = nbformat.v4.new_code_cell("display(mermaid)")
    mermaid.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/vnd.mermaid": HIJACKS["meta-refresh"], "text/plain": "a diagram"},
        )
    ]
    md = nbformat.v4.new_markdown_cell(NORMAL_MARKDOWN)
    return case_notebook(make_record(), [normal, md, mermaid, *cells])


def assert_no_hijack(page: str) -> None:
    """None of :data:`HIJACKS` survives anywhere in ``page``."""
    soup = soup_of(page)
    # Only markup counts: a name from params shows as text (escaped), and so may a script's
    # or style's text where Markdown splits inline tags from it.
    assert "<script" not in page
    for element in ("base", "form", "input", "button", "iframe", "object", "embed", "svg"):
        assert soup.find_all(element) == [], element
    assert soup.find_all("script") == []
    metas = soup.find_all("meta")
    assert all(m.parent.name == "head" for m in metas)  # the template's own
    assert [m["http-equiv"] for m in metas if m.has_attr("http-equiv")] == [
        "Content-Security-Policy"
    ]
    assert [link["href"] for link in soup.find_all("link")] == ["data:,"]
    styles = soup.find_all("style")  # the template's own: pygments' and ours, in the head
    assert len(styles) == 2 and all(s.parent.name == "head" for s in styles)
    assert not any("c3-blank" in s.get_text() for s in styles)
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        assert not {"srcset", "action", "formaction", "xlink:href"} & set(tag.attrs), tag
        values = " ".join(" ".join(v) if isinstance(v, list) else v for v in tag.attrs.values())
        assert not re.search(
            r"evil\.example|x\.png|secrets|ascript|alert|msgbox|url\(|\\6a", values, re.I
        ), tag
    main = soup.find("main")
    assert all(a["href"].startswith("#") for a in main.find_all("a", href=True))
    assert all(
        re.match(r"data:image/(png|jpeg);base64,", img.get("src", "data:image/png;base64,"))
        for img in soup.find_all("img")
    )


def assert_normal_content(page: str) -> None:
    soup = soup_of(page)
    table = soup.find("table", class_="dataframe")
    assert table is not None and "c3-table" in table["class"]
    assert table.caption.get_text() == "Normal table"
    assert table.find("th", colspan="2") and table.find("tr")["style"] == "text-align:right"
    figure = soup.find("figure", class_="c3-figure")
    assert figure.img["src"] == PNG_DATA and figure.img["alt"] == "Normal figure"
    assert figure.figcaption.get_text() == "Normal caption"
    assert soup.find("details", class_="c3-details").summary.get_text() == "Normal details"
    assert "https://www.itdp.org/ (a source, as text)" in soup.find("ol", class_="c3-sources").text
    heading = soup.find("h2", string="Normal section")
    assert heading is not None and heading["id"] == "normal-section"
    link = soup.find("a", string="link to the results")
    assert link["href"].startswith("#results") and soup.find(id=link["href"][1:])
    assert soup.find("math", alttext=r"E = \sum_m e_m").find("msub")
    assert [td.get_text() for td in soup.find_all("td")][-2:] == ["1", "2"]
    text = " ".join(soup.get_text(" ").split())
    # the hijacks' harmless parts stay as text: the names, link texts, alt texts
    assert "City meta-refresh" in text and "click js" in text and "handler div" in text
    assert {"relative image", "remote image", "handler image"} <= {
        img.get("alt") for img in soup.find_all("img")
    }
    # the page's own parts
    assert soup.find("section", class_="c3-summary") and soup.select("nav.c3-toc li")
    assert soup.find("footer", class_="c3-provenance")
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp["content"] == CASE_STUDY_CSP


@pytest.mark.parametrize("name", sorted(HIJACKS))
def test_sanitize_html_removes_hijack(name):
    cleaned = sanitize_html(f"<p>before</p>{HIJACKS[name]}<p>after</p>")
    assert cleaned.startswith("<p>before</p>") and cleaned.endswith("<p>after</p>")
    head = "<meta http-equiv='Content-Security-Policy'><link href='data:,'><style></style>"
    head += "<style></style>"  # as the template's head: the CSP, the icon, two stylesheets
    assert_no_hijack(f"<html><head>{head}</head><body><main>{cleaned}</main></body></html>")


def test_sanitize_html_keeps_case_study_content():
    assert sanitize_html(NORMAL_HTML) == (
        '<table class="c3-table dataframe"><caption>Normal table</caption><thead>'
        '<tr style="text-align:right"><th halign="left" colspan="2">Head</th></tr></thead>'
        '<tbody><tr><th rowspan="1" valign="top">Row</th><td>42</td></tr></tbody></table>'
        f'<figure class="c3-figure"><img src="{PNG_DATA}" alt="Normal figure">'
        "<figcaption>Normal caption</figcaption></figure>"
        '<details class="c3-details"><summary>Normal details</summary><p>Inside</p></details>'
        '<ol class="c3-sources"><li>ITDP 2018, https://www.itdp.org/ (a source, as text)</li>'
        "</ol>"
    )
    mathml = tex_to_mathml(r"E_p = A \sum_m S_m^{2}", display=True)
    assert soup_of(sanitize_html(mathml)) == soup_of(mathml)  # entities come back decoded


def test_sanitize_html_keeps_only_raster_data_images():
    for mime in ("png", "jpeg", "gif", "webp"):
        img = f'<img src="data:image/{mime};base64,AAAA" alt="x">'
        assert sanitize_html(img) == img
    assert sanitize_html('<img src="data:image/svg+xml;base64,AAAA">') == "<img>"
    assert sanitize_html('<img src="data:text/html;base64,AAAA">') == "<img>"


def test_sanitize_html_keeps_only_plain_style_declarations():
    styled = (
        '<p style="color: rgb(1, 2, 3); text-align: right; background: url(x.png); '
        "width: expression(alert(1)); text-align: \\75 rl(x); font-weight: bold /* c */; "
        '--x: url(https://evil.example/v.png); position: fixed">p</p>'
    )
    assert sanitize_html(styled) == '<p style="color:rgb(1, 2, 3);text-align:right">p</p>'
    assert sanitize_html('<p style="position: fixed; inset: 0">p</p>') == "<p>p</p>"


def test_export_html_sanitises_outputs_and_markdown():
    page = export_html(hijack_notebook(), PROVENANCE)
    assert_no_hijack(page)
    assert_normal_content(page)


@pytest.mark.slow
def test_export_html_sanitises_params_and_outputs_end_to_end(tmp_path, params_dir):
    """A built page: a city name with a meta refresh, outputs with every hijack."""
    meta = HIJACKS["meta-refresh"]
    edit_yaml(params_dir / "cities" / "pasig.yaml", lambda d: d.update(name=f"Pasig{meta}"))
    edit_yaml(params_dir / "pairs" / "pasig-taipei.yaml", lambda d: d.update(name=f"P{meta}"))
    hijacks = json.dumps(HIJACKS)
    make_notebook(
        tmp_path / "nbs" / "emissions_inventory.ipynb",
        "from c3lib.kit import casestudy as cs\n"
        "cs.show_context(cs.load_case(pair, 'emissions-inventory', params_dir))",
        "import json\nfrom IPython.display import HTML, Markdown, display\n"
        f"for name, payload in json.loads({hijacks!r}).items():\n"
        "    display(HTML(payload))\n"
        "    display(Markdown(f'City **{name}** {payload}'))",
        f"display(HTML({NORMAL_HTML!r}))\ndisplay(Markdown({NORMAL_MARKDOWN!r}))",
    )
    (spec,) = plan(
        load_catalog(params_dir),
        tmp_path / "out",
        pairs=["pasig-taipei"],
        actions=["emissions-inventory"],
        notebooks_dir=tmp_path / "nbs",
    )
    assert run(spec).status == "ok"
    page = target_paths(tmp_path / "out", "pasig-taipei", "emissions-inventory")["html"]
    html_text = page.read_text(encoding="utf-8")
    assert_no_hijack(html_text)
    soup = soup_of(html_text)
    assert soup.find("caption", string="Normal table").parent["class"] == ["c3-table", "dataframe"]
    assert soup.find("img", alt="Normal figure")["src"] == PNG_DATA
    assert soup.find("h2", string="Normal section") and soup.find("math")
    assert "Pasig" in soup.find("main").get_text()


@pytest.mark.browser
def test_export_html_hijacks_do_nothing_in_browser(tmp_path):
    """Chromium opens the page: it stays, requests nothing, shows its content, runs nothing."""
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, browser_or_skip

    sync_playwright = browser_or_skip()
    path = tmp_path / "hijack.html"
    path.write_text(export_html(hijack_notebook(), PROVENANCE), encoding="utf-8")
    url = path.as_uri()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 900})
            requests, dialogs, navigations = [], [], []
            page.on("request", lambda req: requests.append(req.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("framenavigated", lambda f: navigations.append(f.url))
            page.goto(url, wait_until="load")
            page.wait_for_timeout(1500)  # a refresh after 0 s, or any late load, would be seen
            assert page.url == url and navigations == [url]
            assert [r for r in requests if r != url and not r.startswith("data:")] == []
            assert page.evaluate("document.querySelectorAll('main a[href]').length") > 0
            for i in range(page.locator("main a[href]").count()):
                page.locator("main a[href]").nth(i).click()
                assert page.url.split("#")[0] == url
            assert dialogs == []
            assert [r for r in requests if r != url and not r.startswith("data:")] == []
            shown = page.evaluate(
                """() => ({
                body: getComputedStyle(document.body).display,
                main: document.querySelector('main').getBoundingClientRect().height,
                table: document.querySelector('table.dataframe').getBoundingClientRect().height,
                figure: document.querySelector('figure.c3-figure img').complete,
                styles: document.styleSheets.length,
            })"""
            )
            assert shown["body"] != "none" and shown["main"] > 500 and shown["table"] > 0
            assert shown["figure"] and shown["styles"] == 2  # the template's two
            assert "Normal section" in page.inner_text("main")
        finally:
            chromium.close()


# --- report body and appendix ------------------------------------------------------------


def appendix_notebook() -> nbformat.NotebookNode:
    """A workbook with a tagged reference section, a tagged table cell and a flagged output."""
    from c3lib.kit.casestudy import APPENDIX_METADATA, appendix_html, table_html

    def table_output(caption: str, metadata=None) -> dict:
        html = table_html(pd.DataFrame({"ef": [1.5]}), caption)
        if metadata:
            html = appendix_html(html, caption)
        return nbformat.v4.new_output(
            "display_data", data={"text/html": html, "text/plain": caption}, metadata=metadata or {}
        )

    heading = nbformat.v4.new_markdown_cell("## Sources\n\nEvery source used.")
    heading.metadata["tags"] = ["appendix"]
    listing = nbformat.v4.new_code_cell("cs.show_sources(sources)")
    listing.metadata["tags"] = ["appendix"]
    listing.outputs = [table_output("Numbered sources")]
    factors = nbformat.v4.new_code_cell("cs.show_table(factors)")
    factors.metadata["tags"] = ["appendix"]
    factors.outputs = [table_output("Emission factors used")]
    mixed = nbformat.v4.new_code_cell("cs.show_table(a); cs.show_table(b, appendix=True)")
    mixed.outputs = [
        table_output("Body result table"),
        table_output("Reference values", metadata=APPENDIX_METADATA),
    ]
    nb = case_notebook(make_record(), [factors, mixed])
    nb.cells[-2:-1] = [heading, listing]  # the Sources heading and its list, tagged
    return nb


def test_export_html_moves_appendix_cells_to_the_end():
    soup = soup_of(export_html(appendix_notebook()))
    main = soup.find("main")
    appendix = main.find("section", class_="c3-appendix")
    assert appendix is main.find_all(recursive=False)[-1]  # the last thing in the body
    assert appendix.h2.get_text() == "Appendix: reference tables"
    items = appendix.find_all("details", class_="c3-appendix-item", recursive=False)
    # in notebook order: the overview (a learner's section), the tagged cell, the flagged
    # output, the tagged heading with its list
    assert [d.summary.h3.get_text() for d in items] == [
        "Overview", "Emission factors used", "Reference values", "Sources",
    ]  # fmt: skip
    assert not any(d.has_attr("open") for d in items)  # folded on screen
    assert "Every source used." in items[3].get_text() and "Numbered sources" in str(items[3])
    assert not appendix.find("details", class_="c3-reference")  # no fold inside a fold
    body = main.get_text(" ", strip=True).split("Appendix: reference tables")[0]
    assert "Body result table" in body
    assert not any(t in body for t in ("Emission factors used", "Reference values", "Every source"))


def test_export_html_appendix_in_contents_and_summary_links():
    soup = soup_of(export_html(appendix_notebook()))
    toc = [a.get_text() for a in soup.select("nav.c3-toc a")]
    assert toc[-5:] == ["Appendix: reference tables", "Overview", "Emission factors used",
                        "Reference values", "Sources"]  # fmt: skip
    sources = next(a for a in soup.select(".c3-summary a") if a.get_text() == "Sources")
    target = soup.find(id=sources["href"][1:])
    assert target.name == "h3" and target.find_parent("details", class_="c3-appendix-item")


def test_export_html_without_appendix_cells_has_no_appendix():
    nb = case_notebook(make_record())
    nb.cells = [c for c in nb.cells if not c.source.startswith("## Overview")]
    assert "c3-appendix" not in str(soup_of(export_html(nb)).main)


def test_export_html_moves_learner_sections_to_the_appendix():
    explore = [
        nbformat.v4.new_markdown_cell("## Explore\n\nMove the sliders."),
        nbformat.v4.new_code_cell("explorer"),
        nbformat.v4.new_markdown_cell("## Exercise\n\nWork it out."),
        nbformat.v4.new_code_cell("answer = None"),
        nbformat.v4.new_markdown_cell("**Hint.** Still the exercise."),
    ]
    soup = soup_of(export_html(case_notebook(make_record(), explore)))
    main = soup.find("main")
    appendix = main.find("section", class_="c3-appendix")
    items = appendix.find_all("details", class_="c3-appendix-item", recursive=False)
    assert [d.summary.h3.get_text() for d in items] == ["Overview", "Explore", "Exercise"]
    assert "What you will do." in items[0].get_text()
    assert "answer = None" in items[2].get_text() and "Still the exercise." in items[2].get_text()
    body = main.get_text(" ", strip=True).split(APPENDIX_TITLE)[0]
    assert not any(t in body for t in ("What you will do.", "Move the sliders.", "Work it out."))
    # the parameters, under the overview in the notebook, stay in the body; so does the rest
    assert "Show parameters" in body and "The same heading twice." in body
    assert "Assumptions and data gaps" in body


def test_export_html_prints_every_fold_open():
    css = "".join(s.get_text() for s in soup_of(export_html(appendix_notebook())).find_all("style"))
    rules = "".join(re.findall(r"@media print \{(.*?)\n\}", css, re.S))
    assert "details::details-content { content-visibility: visible; display: block; }" in rules
    assert ".c3-appendix { break-before: page; }" in rules


def test_merge_parameters_shows_the_values_used_once():
    nb = case_notebook(make_record())
    nb.cells[2].source = (
        'pair: str = "pasig-taipei"  # city-pair id\nseed: int = 42  # random seed [-]\nn = 5'
    )
    injected = nbformat.v4.new_code_cell('# Parameters\npair = "bangkok-san-diego"\nn = 7\nx = 1\n')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(3, injected)
    soup = soup_of(export_html(nb))
    folds = [d for d in soup.select("details.c3-code") if d.summary.get_text() == "Show parameters"]
    assert len(folds) == 1
    assert folds[0].find("pre").get_text().splitlines() == [
        'pair: str = "bangkok-san-diego"  # city-pair id',
        "seed: int = 42  # random seed [-]",
        "n = 7",
        "x = 1",
    ]


def test_sanitize_html_keeps_scroll_regions_only():
    kept = sanitize_html('<div class="c3-table-scroll" tabindex="0" role="region" aria-label="T">x</div>')
    assert 'tabindex="0"' in kept and 'role="region"' in kept and 'aria-label="T"' in kept
    dropped = sanitize_html('<div tabindex="5" role="button">x</div>')
    assert "tabindex" not in dropped and "role" not in dropped
