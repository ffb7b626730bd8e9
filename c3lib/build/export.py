"""Export an executed workbook to a self-contained HTML case study (nbconvert, in-process).

The page is the ``c3`` template (``templates/c3``, extending JupyterLab's ``lab``) plus a
finishing pass over the rendered HTML. What a reviewer gets:

- **Reviewer edition.** Code is folded under a per-cell "Show code" (``code="fold"``) or
  left out (``code="hide"``). Cell tags decide the rest: ``remove-cell`` drops a cell,
  ``remove-input`` its code, ``remove-output`` its outputs.
- **Summary up front**, built from the record the notebook published
  (:data:`c3lib.kit.casestudy.RECORD_MIME`): pair and roles (flagged when assumed), headline
  metrics with units (:func:`headline_metrics`), the status of the action list, and links
  to the assumptions and sources sections.
- **Placeholder banner.** A run built mostly on placeholders for a city
  (:func:`placeholder_inputs`) says so at the top of the page, and that city's values in
  the metric tables are marked.
- **Contents** generated from the notebook's headings, each with a unique id.
- **Figures** numbered (CSS counter) with captions and alt text; a plain image output gets
  its alt text from its ``text/plain`` or, for matplotlib's bare repr, from its section.
- **Math** as MathML (``latex2mathml``), rendered by the browser with no script.
- **Offline and safe.** No script, no request to any host and no way away from the page:
  no MathJax, require.js or widget scripts; images embedded; a Content-Security-Policy
  that allows only inline styles and ``data:`` images. Every HTML output, Markdown cell,
  Markdown output and raw cell is sanitised (:func:`sanitize_html`, ``nh3`` with an
  allow-list) before it goes into the page: no script, ``<style>``, ``<meta>``, ``<base>``,
  form, frame, object or inline SVG, no event handler, no link but to the page's own
  anchors, no image but an embedded raster one. The template's own markup and stylesheet
  are not notebook content and are kept as they are.
- **Report body, then appendix.** Reference tables (emission factors, reference values,
  declared inputs, the full assumptions and sources) go to an *Appendix* at the end of the
  page: a cell tagged ``appendix`` moves there (a Markdown cell opening with a heading
  titles the cells after it), so do the learner's sections (:data:`APPENDIX_SECTIONS`: the
  overview, the explorer and the exercise) and an output the kit flagged
  (:data:`c3lib.kit.casestudy.APPENDIX_METADATA`, ``show_table(..., appendix=True)``).
  Each item is folded in a ``<details>`` on screen and printed open (CSS only).
- **The learning city first.** In the body, a table captioned for the mentor city
  ("Taipei (mentor): …") is folded under its caption; the learning city's stays open.
- **Parameters shown once**: the values papermill injected are written into the
  ``parameters`` cell (the injected cell goes), so the page shows the values the run used.
- **Provenance footer**: c3lib version, commit, params hash, build time, parameters.
"""

from __future__ import annotations

import copy
import html
import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c3lib.kit.casestudy import RECORD_MIME, format_number
from c3lib.kit.report import rests_on_line, takeaway

if TYPE_CHECKING:  # nbformat is slow to import and only annotates here
    import nbformat

__all__ = [
    "TEMPLATES_DIR",
    "TEMPLATE_NAME",
    "WIDGET_MIME",
    "SAFE_TAGS",
    "SAFE_ATTRIBUTES",
    "sanitize_html",
    "CASE_STUDY_CSP",
    "HEADLINE_ROWS",
    "html_exporter",
    "tex_to_mathml",
    "find_record",
    "metric_rows",
    "headline_metrics",
    "PLACEHOLDER_SOURCE",
    "PLACEHOLDER_SHARE",
    "placeholder_inputs",
    "summary_context",
    "APPENDIX_TAG",
    "APPENDIX_TITLE",
    "APPENDIX_SECTIONS",
    "merge_parameters",
    "prepare",
    "finish_page",
    "export_html",
]

log = logging.getLogger("c3lib")

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_NAME = "c3"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: A case study runs no script and loads nothing: inline styles and data: images only.
CASE_STUDY_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'none'; base-uri 'none'; form-action 'none'"
)
#: At most this many rows in a summary's headline table.
HEADLINE_ROWS = 8
CODE_MODES = ("fold", "hide")

_IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
# the lab template writes Mermaid source into the page unescaped, for a script to draw
_DROPPED_MIMES = (WIDGET_MIME, "application/javascript", "text/vnd.mermaid")
# matplotlib's and IPython's bare reprs ("<Figure size 640x480 with 1 Axes>") say nothing
_BARE_REPR = re.compile(r"^<.*>$", re.S)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_STEP_LABEL = {"done": "done", "in-progress": "in progress", "not-started": "not started"}
#: The cell tag that moves a cell to the appendix at the end of the case study.
APPENDIX_TAG = "appendix"
APPENDIX_TITLE = "Appendix: reference tables"
#: Sections written for the learner, not the reviewer, move whole to the appendix: the
#: overview (what the learner will do), the explorer (its controls need a kernel; the page
#: shows it at its defaults, the step's own results) and the exercise.
APPENDIX_SECTIONS = ("Overview", "Explore", "Exercise")
_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?P<annotation>:[^=#]*)?=\s*(?P<value>.*)$")


# --- Math -----------------------------------------------------------------------------


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """MathML for a TeX formula, with the TeX as ``alttext``; escaped TeX when it cannot convert.

    Browsers render MathML natively, so the page needs no MathJax.
    """
    tex = " ".join(tex.split())
    try:
        from latex2mathml.converter import convert
    except ImportError:  # optional: without it the formula shows as TeX
        convert = None
    if convert is not None:
        try:
            mathml = convert(tex, display="block" if display else "inline")
        except Exception as exc:  # noqa: BLE001 - any TeX it cannot read falls back to text
            log.warning("could not convert TeX %r to MathML: %s", tex, exc)
        else:
            return mathml.replace("<math ", f'<math alttext="{html.escape(tex)}" ', 1)
    cls = "c3-tex c3-tex-block" if display else "c3-tex"
    return f'<code class="{cls}">{html.escape(tex)}</code>'


# --- Sanitising what the notebook puts on the page ---------------------------------------

#: MathML elements, as latex2mathml writes them (no annotation-xml: it can hold HTML).
MATH_TAGS = frozenset(
    {
        *("math", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msub", "msup", "msubsup"),
        *("mfrac", "msqrt", "mroot", "munder", "mover", "munderover", "mmultiscripts"),
        *("mprescripts", "none", "mstyle", "mpadded", "mphantom", "menclose", "merror"),
        *("mfenced", "mtable", "mtr", "mtd", "mlabeledtr", "semantics"),
    }
)
#: Elements notebook content may use: text, lists, tables, figures, details, and MathML.
SAFE_TAGS = MATH_TAGS | {
    *("p", "br", "hr", "div", "span", "section", "article", "aside", "blockquote", "pre"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "a", "abbr", "b", "bdi", "bdo", "cite", "code"),
    *("data", "del", "dfn", "em", "i", "ins", "kbd", "mark", "q", "s", "samp", "small"),
    *("strong", "sub", "sup", "time", "u", "var", "wbr", "ruby", "rp", "rt"),
    *("ul", "ol", "li", "dl", "dt", "dd", "details", "summary", "figure", "figcaption"),
    *("table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"),
    "img",
    *("input", "label"),  # radio inputs switching an explorer's settings (c3lib.kit.explore)
}
#: Elements dropped with everything in them (their text would be noise, or worse, on the page).
DROPPED_WITH_CONTENT = frozenset(
    {
        *("script", "style", "template", "noscript", "noembed", "noframes", "xmp", "title"),
        *("iframe", "frame", "frameset", "object", "embed", "applet", "svg", "canvas"),
        *("audio", "video", "textarea", "select", "annotation", "annotation-xml"),
    }
)
_CELL_ATTRS = {"colspan", "rowspan", "headers", "scope", "align", "valign", "halign"}
_MATH_ATTRS = {
    *("display", "alttext", "xmlns", "mathvariant", "mathsize", "dir", "displaystyle"),
    *("scriptlevel", "fence", "form", "stretchy", "separator", "lspace", "rspace", "minsize"),
    *("maxsize", "largeop", "movablelimits", "symmetric", "accent", "accentunder", "width"),
    *("height", "depth", "voffset", "linethickness", "open", "close", "separators", "notation"),
    *("columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines"),
    *("frame", "framespacing", "equalrows", "equalcolumns", "align", "columnspan", "rowspan"),
}
#: Attributes by element (``*``: any element). ``href`` and ``src`` pass :func:`_safe_attribute`.
SAFE_ATTRIBUTES = {
    "*": {"class", "title", "lang", "dir", "style"},
    **{h: {"id"} for h in ("h1", "h2", "h3", "h4", "h5", "h6")},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "input": {"type", "name", "id", "checked"},
    "label": {"for"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "details": {"open"},
    "div": {"tabindex", "role", "aria-label"},
    "time": {"datetime"},
    "data": {"value"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "th": _CELL_ATTRS,
    "td": _CELL_ATTRS,
    "tr": {"align", "valign"},
    **{tag: _MATH_ATTRS for tag in MATH_TAGS},
}
#: The only declarations a ``style`` attribute keeps: layout of text and tables, no URLs.
SAFE_STYLE_PROPERTIES = frozenset(
    {
        *("text-align", "vertical-align", "font-weight", "font-style", "white-space"),
        *("color", "background-color", "width", "min-width", "max-width", "padding"),
        *("border-collapse", "text-decoration"),
    }
)
# Images embedded as raster data only (an SVG is a document: it does not belong in a src).
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.I)
# A plain CSS value: words, numbers, units, colours; no escape, comment, url() or expression()
_STYLE_VALUE = re.compile(r"(?:[\w\s#%.,+-]|(?:rgba?|hsla?)\([\d\s.,%/]*\))*", re.A)


def _safe_style(value: str) -> str | None:
    """The declarations of a ``style`` attribute that set a safe property to a plain value."""
    kept = []
    for declaration in value.split(";"):
        name, colon, val = declaration.partition(":")
        name, val = name.strip().lower(), val.strip()
        if colon and name in SAFE_STYLE_PROPERTIES and val and _STYLE_VALUE.fullmatch(val):
            kept.append(f"{name}: {val}")
    return "; ".join(kept) or None


def _safe_attribute(tag: str, attr: str, value: str) -> str | None:
    """Keep ``href`` only to this page's anchors, ``src`` only as embedded raster images,
    ``style`` only as :func:`_safe_style` leaves it.

    The sanitizer hands over values with entities decoded, so ``jav&#x09;ascript:`` and the
    like arrive as what a browser would read.
    """
    if attr == "href":
        return value if value.startswith("#") else None
    if attr == "src":
        return value if tag == "img" and _DATA_IMAGE.fullmatch(value) else None
    if attr == "style":
        return _safe_style(value)
    if attr == "tabindex":  # in the reading order or out of it, never ahead of it
        return value if value in ("0", "-1") else None
    if attr == "type" and tag == "input":  # radio only; sanitize_html drops any other input
        return "radio" if value.strip().lower() == "radio" else None
    if attr == "role":
        return value if value in ("region", "note", "group") else None
    return value


# an input that is not a radio button (an explorer's setting) is dropped; nh3 writes every
# attribute as name="value", so its type reads as this
_NOT_RADIO = re.compile(r'<input(?![^>]*\stype="radio")[^>]*>')


@cache
def _cleaner():
    import nh3

    return nh3.Cleaner(
        tags=set(SAFE_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(attrs) for tag, attrs in SAFE_ATTRIBUTES.items()},
        attribute_filter=_safe_attribute,
        url_schemes={"data"},
        filter_style_properties=set(SAFE_STYLE_PROPERTIES),
        link_rel=None,  # no link leaves the page
        strip_comments=True,
    )


def sanitize_html(fragment: str | bytes) -> str:
    """A notebook's HTML with only what a static case study needs (allow-list, ``nh3``).

    Kept: the elements of :data:`SAFE_TAGS` with the attributes of :data:`SAFE_ATTRIBUTES`,
    links to anchors in the page (``#...``), images embedded as PNG, JPEG, GIF or WebP
    ``data:`` URLs, and ``style`` attributes reduced to plain values of
    :data:`SAFE_STYLE_PROPERTIES`. Gone: everything else — scripts, ``<style>``, ``<meta>``,
    ``<base>``, forms, frames, objects, inline SVG, event handlers, and every link or
    source that points anywhere else.
    """
    if isinstance(fragment, bytes):
        fragment = fragment.decode("utf-8", errors="replace")
    return _NOT_RADIO.sub("", _cleaner().clean(str(fragment)))


def _renderer_class():
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class MathMLRenderer(IPythonRenderer):
        """nbconvert's Markdown renderer, with math as MathML instead of text for MathJax."""

        def block_math(self, body: str) -> str:
            return tex_to_mathml(body, display=True)

        def inline_math(self, body: str) -> str:
            return tex_to_mathml(body)

        def latex_environment(self, name: str, body: str) -> str:
            return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    return MathMLRenderer


@cache
def html_exporter(code: str = "fold"):
    """One configured exporter per process and code mode (template lookup is the slow part).

    Parameters
    ----------
    code : {"fold", "hide"}
        ``fold``: every code cell under its own "Show code"; ``hide``: no code at all.
    """
    if code not in CODE_MODES:
        raise ValueError(f"code must be one of {CODE_MODES}, not {code!r}")
    from jinja2 import pass_context
    from nbconvert import HTMLExporter, TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.markdown_mistune import MarkdownWithMath
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config

    renderer_class = _renderer_class()

    class CaseStudyExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = renderer_class(
                escape=False,
                attachments=cell.get("attachments", {}),
                embed_images=self.embed_images,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
                **self.lexer_options,
            )
            return MarkdownWithMath(renderer=renderer).render(source)

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter's own, without its BeautifulSoup pass over the whole page (alt
            # text, tabindex): finish_page does both in its one pass
            lexer = nb.metadata.get("language_info", {})
            lexer = lexer.get("pygments_lexer", lexer.get("name"))
            self.register_filter(
                "highlight_code",
                self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
                ),
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        def default_filters(self):
            # With sanitize_html on, the lab template passes every HTML output, Markdown
            # cell and output and raw cell through ``clean_html``: here, our allow-list.
            yield from super().default_filters()
            yield ("clean_html", sanitize_html)

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    return CaseStudyExporter(
        config=config,
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        embed_images=True,
        exclude_anchor_links=True,  # finish_page gives every heading a unique id
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_input=code == "hide",
        sanitize_html=True,
    )


# --- The record and its summary -------------------------------------------------------


def find_record(nb: nbformat.NotebookNode) -> dict | None:
    """The record the notebook published with :func:`c3lib.kit.casestudy.publish` (the last one)."""
    for cell in reversed(nb.cells):
        for out in reversed(cell.get("outputs", [])):
            data = out.get("data", {})
            if RECORD_MIME in data:
                return copy.deepcopy(dict(data[RECORD_MIME]))
    return None


def _metric_label(metric: str, pollutant: str, scope: str) -> str:
    label = str(metric).replace("_", " ").capitalize()
    if pollutant:
        label += f", {pollutant}"
    if scope:
        label += f" ({scope})"
    return label


def metric_rows(record: dict) -> list[dict]:
    """The record's metrics side by side: one row per metric, pollutant, scope and unit.

    Returns
    -------
    list of dict
        In the order the workbook recorded them, each with ``metric``, ``pollutant``,
        ``scope``, ``unit``, ``label`` (for display) and ``values``: value by role
        (``mentor``, ``learning``; ``pair`` for pair-level metrics; a city id that is
        neither keeps its id).
    """
    role_of = {c.get("id"): role for role, c in record.get("cities", {}).items()}
    rows: dict[tuple, dict] = {}
    for m in record.get("metrics", []):
        key = (m["metric"], m.get("pollutant") or "", m.get("scope") or "", m.get("unit", ""))
        row = rows.setdefault(
            key,
            {
                "metric": key[0],
                "pollutant": key[1],
                "scope": key[2],
                "unit": key[3],
                "label": _metric_label(*key[:3]),
                "values": {},
                "headline": False,
            },
        )
        row["values"][role_of.get(m["city"], m["city"])] = m["value"]
        row["headline"] = row["headline"] or bool(m.get("headline"))
    return list(rows.values())


def headline_metrics(record: dict, limit: int = HEADLINE_ROWS) -> list[dict]:
    """The handful of :func:`metric_rows` a summary shows.

    The rows the workbook flags ``headline``; failing that, those with scope ``total``;
    failing that, the first rows it records. At most ``limit`` rows.
    """
    rows = metric_rows(record)
    flagged = [r for r in rows if r["headline"]]
    totals = [r for r in rows if r["scope"] == "total"]
    return (flagged or totals or rows)[:limit]


#: How a scaffold placeholder's source starts (as :data:`c3lib.scaffold.PLACEHOLDER` writes it).
PLACEHOLDER_SOURCE = "placeholder:"
#: A city's run is built on placeholder data from this share of placeholder inputs up.
PLACEHOLDER_SHARE = 0.9


def placeholder_inputs(record: dict) -> list[dict]:
    """How much of each city's input to a run is placeholder, from the record's ``inputs``.

    An input is a placeholder when its source is a scaffold placeholder (starts with
    :data:`PLACEHOLDER_SOURCE`) or it has no city, region or country value (level
    ``global``: a documented default, flagged ``assumed``, or no value at all). A city's
    run is *built on placeholder data* when any input is a scaffold placeholder (a
    population of 1 makes every per-capita figure meaningless) or at least
    :data:`PLACEHOLDER_SHARE` of its inputs are placeholders.

    Returns
    -------
    list of dict
        One per city with inputs in the record, learning city first: ``role``, ``city``,
        ``name``, ``placeholders`` (N), ``inputs`` (M), ``scaffold`` (inputs with a
        scaffold placeholder source) and ``flagged``.
    """
    cities = record.get("cities") or {}
    inputs = [i for i in record.get("inputs") or [] if isinstance(i, dict)]
    out = []
    for role in sorted(cities, key=lambda r: (r != "learning", r != "mentor", r)):
        city = cities[role] or {}
        mine = [i for i in inputs if i.get("city") == city.get("id")]
        if not mine:
            continue
        scaffold = sum(str(i.get("source") or "").startswith(PLACEHOLDER_SOURCE) for i in mine)
        n = sum(
            str(i.get("source") or "").startswith(PLACEHOLDER_SOURCE) or i.get("level") == "global"
            for i in mine
        )
        out.append(
            {
                "role": role,
                "city": city.get("id", ""),
                "name": city.get("name", city.get("id", "")),
                "placeholders": n,
                "inputs": len(mine),
                "scaffold": scaffold,
                "flagged": scaffold > 0 or n >= PLACEHOLDER_SHARE * len(mine),
            }
        )
    return out


def _formatted(rows: list[dict]) -> list[dict]:
    return [
        {**r, "shown": {role: format_number(float(v)) for role, v in r["values"].items()}}
        for r in rows
    ]


def summary_context(record: dict | None, provenance: dict | None = None) -> dict:
    """What the template's summary and footer show, from a run record (pure).

    Values are plain text; the template escapes every one of them.
    """
    provenance = dict(provenance or (record or {}).get("provenance") or {})
    footer = {
        "provenance": provenance,
        "commit_short": (provenance.get("git_commit") or "")[:12],
        "parameters": sorted((provenance.get("parameters") or {}).items()),
    }
    if not record:
        return {"record": False, "placeholder": [], "placeholder_roles": [], **footer}
    steps = [
        {**s, "status_label": _STEP_LABEL.get(s.get("status"), s.get("status", ""))}
        for s in record.get("steps", [])
    ]
    counts = {k: sum(s.get("status") == k for s in steps) for k in _STEP_LABEL}
    rows = metric_rows(record)
    headline = headline_metrics(record)
    extra_roles = sorted(
        {role for r in rows for role in r["values"]} - {"mentor", "learning"},
        key=lambda r: (r != "pair", r),
    )
    assumptions = record.get("assumptions", [])
    placeholder = [p for p in placeholder_inputs(record) if p["flagged"]]
    return {
        "record": True,
        "placeholder": placeholder,
        "placeholder_roles": [p["role"] for p in placeholder],
        "title": record.get("title", record.get("action", "")),
        "action": record.get("action", ""),
        "pair": record.get("pair", ""),
        "pair_name": record.get("pair_name", record.get("pair", "")),
        "cities": record.get("cities", {}),
        "roles_assumed": record.get("roles_basis") == "assumed",
        "focus": bool(record.get("focus")),
        "steps": steps,
        "steps_done": counts["done"],
        "steps_in_progress": counts["in-progress"],
        "steps_not_started": counts["not-started"],
        "headline": _formatted(headline),
        "metrics": _formatted(rows),
        "n_metrics": len(rows),
        "columns": ["mentor", "learning", *extra_roles],
        "n_assumptions": len(assumptions),
        "n_pair_assumptions": sum(a.get("city") == "pair" for a in assumptions),
        "n_sources": len(record.get("sources", [])),
        "takeaway": list(takeaway(record).items()),
        "rests_on": sorted(rests_on_line(record).items(), key=lambda kv: kv[0] != "learning"),
        **footer,
    }


# --- Preparing the notebook -----------------------------------------------------------


def _headings(source: str) -> list[str]:
    """ATX headings of a Markdown cell, outside fenced code."""
    text = re.sub(r"^(```|~~~).*?^\1", "", source, flags=re.S | re.M)
    return [m.group(2).strip() for m in _HEADING.finditer(text)]


def _image_alt(out: dict, section: str) -> str:
    text = out.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    alt = out.get("metadata", {}).get("alt") or (
        text.strip() if text.strip() and not _BARE_REPR.match(text.strip()) else ""
    )
    if alt:
        return alt
    where = f" in the section “{section}”" if section else ""
    return f"Chart{where} (the workbook gives no text description of it)"


def _tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def merge_parameters(nb: nbformat.NotebookNode) -> None:
    """Write the values of the ``injected-parameters`` cell into the ``parameters`` cell.

    Each ``name = value`` papermill injected replaces the value of that name's line in the
    parameters cell, keeping its type annotation and comment; a name the cell does not
    have is added at its end. The injected cell is removed, so the page shows one cell
    with the values the run used. In place.
    """
    cells = nb.cells
    params = next((c for c in cells if "parameters" in _tags(c)), None)
    injected = [c for c in cells if "injected-parameters" in _tags(c)]
    if params is None or not injected:
        return
    values: dict[str, str] = {}
    for cell in injected:
        for line in cell.source.splitlines():
            m = _ASSIGNMENT.match(line.strip())
            if m and not line.startswith((" ", "\t")):
                values[m["name"]] = m["value"].strip()
    lines = params.source.splitlines()
    for i, line in enumerate(lines):
        m = _ASSIGNMENT.match(line)
        if m and m["name"] in values:
            value, hash_, comment = m["value"].partition("  #")
            annotation = (m["annotation"] or "").rstrip()
            left = f"{m['name']}{annotation} = " if annotation else f"{m['name']} = "
            lines[i] = left + values.pop(m["name"]) + (f"  #{comment}" if hash_ else "")
    lines += [f"{name} = {value}" for name, value in values.items()]
    params.source = "\n".join(lines)
    nb.cells = [c for c in cells if "injected-parameters" not in _tags(c)]


def _split_appendix_outputs(nb: nbformat.NotebookNode) -> None:
    """Move each output the kit flagged for the appendix into a cell tagged ``appendix``.

    One cell per output, so that each becomes an appendix item titled by its own caption.
    """
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        outs = cell.get("outputs") or []
        flagged = [o for o in outs if (o.get("metadata") or {}).get("c3", {}).get("appendix")]
        if not flagged or APPENDIX_TAG in _tags(cell):
            continue
        cell.outputs = [o for o in outs if o not in flagged]
        for k, out in enumerate(flagged):
            extra = copy.deepcopy(cell)
            extra.source = ""
            extra.outputs = [out]
            extra.metadata["tags"] = [APPENDIX_TAG, "remove-input"]
            extra.metadata.pop("c3", None)
            if "id" in cell:
                suffix = "-appendix" + (f"-{k + 1}" if k else "")
                extra["id"] = f"{cell['id'][: 64 - len(suffix)]}{suffix}"
            cells.append(extra)
    nb.cells = cells


def _tag_appendix_sections(nb: nbformat.NotebookNode) -> None:
    """Tag ``appendix`` the cells of each level-2 section named in :data:`APPENDIX_SECTIONS`.

    The section runs from its heading to the next level-1 or level-2 heading; the
    ``parameters`` cell stays in the body.
    """
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            first = _HEADING.match(cell.source.lstrip("\n"))
            if first and len(first.group(1)) <= 2:
                inside = len(first.group(1)) == 2 and first.group(2).strip() in APPENDIX_SECTIONS
        tags = _tags(cell)
        if inside and "parameters" not in tags and APPENDIX_TAG not in tags:
            cell.metadata["tags"] = [*tags, APPENDIX_TAG]


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready for a static page.

    - the injected parameters are written into the parameters cell (:func:`merge_parameters`);
    - the learner's sections (:data:`APPENDIX_SECTIONS`) are tagged ``appendix``, and
      outputs flagged for the appendix get a cell of their own, tagged ``appendix``;

    - widget views and saved widget state go (each explorer carries a static HTML
      rendering in the same output), and so do JavaScript and Mermaid outputs: the page
      runs no script;
    - every image output gets alt text (``metadata.c3_alt``);
    - the title cell (the first Markdown cell that opens with a level-1 heading) is marked
      for the summary to follow it, and the record's title becomes the page title.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    merge_parameters(nb)
    _tag_appendix_sections(nb)
    _split_appendix_outputs(nb)
    section, title_cell = "", None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heads = _headings(cell.source)
            if title_cell is None and cell.source.lstrip().startswith("# ") and heads:
                title_cell = cell
            section = heads[-1] if heads else section
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            for mime in _DROPPED_MIMES:
                data.pop(mime, None)
            if any(m in data for m in _IMAGE_MIMES):
                out.setdefault("metadata", {})["c3_alt"] = _image_alt(out, section)
    if title_cell is not None:
        title_cell.metadata.setdefault("c3", {})["summary_after"] = True
    record = find_record(nb)
    if record and record.get("title"):
        nb.metadata["title"] = f"{record['title']}: {record.get('pair_name', '')}".strip(": ")
    return nb


# --- Finishing the page ---------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _outline(soup) -> None:
    """Unique ids for the headings in ``<main>``, the table of contents, the summary links."""
    main = soup.find("main")
    if main is None:
        return
    headings = ["h1", "h2", "h3", "h4", "h5", "h6"]
    used = {t["id"] for t in soup.find_all(id=True) if t.name not in headings}
    entries = []
    for h in main.find_all(headings):
        text = " ".join(h.get_text(" ", strip=True).split())
        hid = h.get("id") or _slug(text)
        base, n = hid, 2
        while hid in used:
            hid, n = f"{base}-{n}", n + 1
        used.add(hid)
        h["id"] = hid
        if h.name in ("h2", "h3") and text:
            entries.append((int(h.name[1]), text, hid, h.find_parent(class_="c3-summary")))
    toc = soup.find("ol", class_="c3-toc-list")
    if toc is not None:
        parent_li = None
        for level, text, hid, _ in entries:
            li = soup.new_tag("li")
            a = soup.new_tag("a", href=f"#{hid}")
            a.string = text
            li.append(a)
            if level == 3 and parent_li is not None:
                sub = parent_li.find("ol")
                if sub is None:
                    sub = soup.new_tag("ol")
                    parent_li.append(sub)
                sub.append(li)
            else:
                toc.append(li)
                parent_li = li
    # the summary's links go to the notebook's own sections, never to the summary itself
    by_text = {text.lower(): hid for _, text, hid, in_summary in entries if in_summary is None}
    for a in soup.find_all("a", attrs={"data-c3-section": True}):
        want = a["data-c3-section"].lower()
        hit = next((hid for t, hid in by_text.items() if t.startswith(want)), None)
        del a["data-c3-section"]
        if hit:
            a["href"] = f"#{hit}"
        else:
            a.unwrap()


def _appendix_title(cells: list) -> str:
    """The first caption of ``cells``, marked as repeating the title it becomes."""
    for cell in cells:
        cap = cell.find("caption") or cell.find("figcaption")
        if cap is not None and cap.get_text(strip=True):
            if cap.name == "caption":
                cap["class"] = [*cap.get("class", []), "c3-caption-repeats"]
            return " ".join(cap.get_text(" ", strip=True).split())
    return "Reference table"


def _appendix(soup) -> None:
    """Move the cells marked for the appendix into one section at the end of ``<main>``.

    Cells are grouped: a Markdown cell that opens with a heading starts a group titled by
    that heading, and the marked cells right after it join it; any other marked cell is a
    group of its own, titled by its first caption. Each group is a ``<details>`` (closed on
    screen, open in print) whose ``<summary>`` holds its title as an ``<h3>``.
    """
    main = soup.find("main")
    marked = main.find_all("div", class_="c3-appendix-cell") if main is not None else []
    if not marked:
        return
    groups: list[tuple[str | None, list]] = []
    for cell in marked:
        heading = None
        first = next((t for t in cell.find_all(True) if t.name not in ("div",)), None)
        if (
            first is not None
            and first.name in ("h1", "h2", "h3", "h4")
            and cell.find(class_="jp-MarkdownCell")
        ):
            heading = " ".join(first.get_text(" ", strip=True).split())
            first.decompose()
        joined = (
            heading is None
            and groups
            and groups[-1][1][-1].find_next_sibling(True) is cell
            and groups[-1][0] is not None
        )
        if joined:
            groups[-1][1].append(cell)
        else:
            groups.append((heading, [cell]))
    section = soup.new_tag("section", attrs={"class": "c3-appendix", "aria-labelledby": "appendix"})
    h2 = soup.new_tag("h2", id="appendix")
    h2.string = APPENDIX_TITLE
    intro = soup.new_tag("p", attrs={"class": "c3-appendix-intro"})
    intro.string = (
        "The workbook's sections for learners (overview, explorer, exercise) and the "
        "reference tables behind the case study, each folded: open one to read it. "
        "They are printed in full."
    )
    section.extend([h2, intro])
    for heading, cells in groups:
        details = soup.new_tag("details", attrs={"class": "c3-appendix-item"})
        summary = soup.new_tag("summary")
        h3 = soup.new_tag("h3")
        h3.string = heading or _appendix_title(cells)
        summary.append(h3)
        details.append(summary)
        for cell in cells:
            for inner in cell.find_all("details", class_="c3-reference"):
                inner_summary = inner.find("summary", recursive=False)
                if inner_summary is not None:
                    inner_summary.decompose()
                inner.unwrap()
            details.append(cell.extract())
        section.append(details)
    main.append(section)


def _fold_mentor_tables(soup, mentor: str) -> None:
    """Fold the body's tables captioned for the mentor city ("Taipei (mentor): …", "Taipei: …").

    The learning city's tables of the same kind stay open beside them; each folded table
    keeps its caption as the fold's title and prints open.
    """
    main = soup.find("main")
    if main is None or not mentor:
        return
    prefixes = (f"{mentor} (mentor)", f"{mentor}:")
    for cap in main.find_all("caption"):
        if cap.find_parent(class_=("c3-appendix", "c3-summary")) or cap.find_parent("details"):
            continue
        text = " ".join(cap.get_text(" ", strip=True).split())
        block = cap.find_parent("div", class_="c3-table-block")
        if block is None or not text.startswith(prefixes):
            continue
        fold = soup.new_tag("details", attrs={"class": "c3-mentor-fold"})
        summary = soup.new_tag("summary")
        summary.string = text
        cap["class"] = [*cap.get("class", []), "c3-caption-repeats"]
        block.wrap(fold)
        fold.insert(0, summary)


def finish_page(page: str, mentor: str = "") -> str:
    """The finishing pass over a rendered case study (see module docstring).

    ``mentor``: the mentor city's name, whose detail tables in the body are folded.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, features="html.parser")
    _fold_mentor_tables(soup, mentor)
    _appendix(soup)
    _outline(soup)
    for img in soup.find_all("img"):
        if not img.get("alt", "").strip():
            img["alt"] = "Image (the workbook gives no text description of it)"
    # cell inputs and outputs reachable by keyboard, as nbconvert's lab export makes them
    for elem in soup.select("div.jp-Cell-inputWrapper, div.jp-OutputArea-output"):
        elem["tabindex"] = "0"
    return str(soup)


def export_html(
    nb: nbformat.NotebookNode, provenance: dict | None = None, code: str = "fold"
) -> str:
    """Render an executed notebook as one self-contained HTML case study.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook; its published record (if any) feeds the summary.
    provenance : dict, optional
        Shown in the page footer (c3lib version, commit, params hash, build time).
    code : {"fold", "hide"}
        Fold each code cell under "Show code", or leave code out.
    """
    record = find_record(nb)
    context: dict[str, Any] = summary_context(record, provenance)
    context["csp"] = CASE_STUDY_CSP
    ready = prepare(nb)
    context["summary_at_top"] = record is not None and not any(
        c.metadata.get("c3", {}).get("summary_after") for c in ready.cells
    )
    body, _ = html_exporter(code).from_notebook_node(ready, resources={"c3": context})
    mentor = ((record or {}).get("cities") or {}).get("mentor") or {}
    return finish_page(body, str(mentor.get("name") or ""))
