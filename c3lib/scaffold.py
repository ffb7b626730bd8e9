"""Scaffold a new city pair (and any new city) in a params folder: ``c3 new-pair``.

A new pair file ``pairs/<learning>-<mentor>.yaml`` records the two cities and their
roles, the focus actions and every action-list step as ``not-started``. A city not yet in
``cities/`` gets ``cities/<id>.yaml`` with the required profile values: those given are
written as given, those not given as placeholders that validate but say what they are
(quality ``assumed``, source starting ``placeholder:``). So are the inputs a workbook
declares it cannot run without (``requires`` in ``actions.yaml``) when no level — the
city's country file or a global default — supplies them. The optional profile fields and
the activity fields of every workbook follow as commented-out lines to fill.

Nothing is written unless the params folder, with the new files in it, passes
:func:`c3lib.params.load_catalog`; nothing is written outside the params folder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from c3lib.build.store import atomic_write
from c3lib.exceptions import C3Error, ParamsError, ParamsErrors
from c3lib.params import Catalog, City, city_inputs, default_params_dir, is_safe_id, load_catalog
from c3lib.reference import field_table

__all__ = [
    "PLACEHOLDER",
    "CITY_TEXT_FIELDS",
    "NewPair",
    "pair_id",
    "city_name",
    "placeholder_value",
    "required_fields",
    "city_yaml",
    "pair_yaml",
    "new_pair",
]

log = logging.getLogger("c3lib")

PLACEHOLDER = "placeholder:"
CITY_TEXT_FIELDS = ("name", "country")


@dataclass(frozen=True)
class NewPair:
    """What :func:`new_pair` wrote and what is left to fill.

    Attributes
    ----------
    pair : str
        The new pair's id.
    written : list of Path
        Files written, city files first.
    todo : list of str
        ``<file>: <field>: <what to do>`` for every placeholder and derived value.
    notes : list of str
        Anything else worth knowing (e.g. the two cities are already paired).
    """

    pair: str
    written: list[Path]
    todo: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def pair_id(mentor: str, learning: str) -> str:
    """The id of a pair: learning city first, as in ``pasig-taipei`` (mentor Taipei)."""
    return f"{learning}-{mentor}"


def city_name(city_id: str) -> str:
    """A display name guessed from an id: ``san-diego`` → ``San Diego``."""
    return " ".join(part.capitalize() for part in city_id.split("-"))


def placeholder_value(minimum: float, maximum: float) -> float:
    """The placeholder for a required quantity: the allowed value closest to zero.

    A value that validates but is plainly not a real figure (1 person, 0° N 0° E).

    Parameters
    ----------
    minimum, maximum : float
        The field's allowed range (NaN for no bound). [field unit]
    """
    lo = -float("inf") if pd.isna(minimum) else float(minimum)
    hi = float("inf") if pd.isna(maximum) else float(maximum)
    return min(max(0.0, lo), hi)


def required_fields(catalog: Catalog) -> dict[str, list[str]]:
    """Every ``<section>.<field>`` some workbook requires, with the action ids requiring it."""
    out: dict[str, list[str]] = {}
    for action in catalog.actions.values():
        for req in action.requires:
            out.setdefault(req, []).append(action.id)
    return out


def _quantity(value: float, unit: str, year: int | None, source: str, quality: str, note: str):
    value = float(value)
    return {
        "value": int(value) if value.is_integer() else value,
        "unit": unit,
        "year": year,
        "source": source,
        "quality": quality,
        "note": note,
    }


def _dump(data: dict, flow_leaves: bool = False) -> str:
    """YAML text; with ``flow_leaves`` a mapping of scalars goes on one line."""
    return yaml.safe_dump(
        data,
        allow_unicode=True,
        sort_keys=False,
        width=100,
        default_flow_style=None if flow_leaves else False,
    )


def _commented_fields(table: pd.DataFrame, indent: str) -> list[str]:
    lines = []
    for name, spec in table.iterrows():
        hint = spec["description"] or name
        if not pd.isna(spec["default"]):
            per = " per person" if spec["scale"] == "per_capita" else ""
            hint += f" (default {spec['default']:g}{per}, flagged assumed)"
        lines.append(
            f"# {indent}{name}: {{value: , unit: {json.dumps(spec['unit'], ensure_ascii=False)}, "
            f'year: , source: "", quality: , note: ""}}  # {hint}'
        )
    return lines


def city_yaml(
    city_id: str,
    actions: Iterable[str] = (),
    values: Mapping[str, object] | None = None,
    source: str = "",
    year: int | None = None,
    today: dt.date | None = None,
    requires: Mapping[str, Iterable[str]] | None = None,
) -> tuple[str, list[str]]:
    """The text of a new city file and the fields it leaves to fill.

    Parameters
    ----------
    city_id : str
        Safe id of the city.
    actions : iterable of str
        Action ids whose activity fields are listed as commented lines to fill.
    values : mapping, optional
        ``name``, ``country`` and required profile fields (``population`` [persons],
        ``area_km2`` [km2], ``latitude`` [degrees], ``longitude`` [degrees]) to write.
    source : str, optional
        Where the given profile values come from; without it they are flagged
        ``assumed`` and listed as needing a source.
    year : int, optional
        Year the given profile values refer to.
    today : datetime.date, optional
        Date written in the header (default today).
    requires : mapping, optional
        ``<section>.<field>`` → the actions requiring it, for the required inputs no
        level supplies (:func:`required_fields`): each is written as a placeholder.

    Returns
    -------
    text : str
        YAML, with comments.
    todo : list of str
        ``<field>: <what to do>`` for each placeholder or unsourced value.

    Raises
    ------
    C3Error
        A value names an unknown field or lies outside the field's allowed range.
    """
    values = dict(values or {})
    table = field_table("profile")
    required = [f for f in table.index if table.loc[f, "required"]]
    unknown = sorted(set(values) - set(required) - set(CITY_TEXT_FIELDS))
    if unknown:
        raise C3Error(
            f"cities/{city_id}.yaml: cannot set {', '.join(unknown)}; "
            f"known: {', '.join(CITY_TEXT_FIELDS + tuple(required))}"
        )
    today = today or dt.date.today()
    todo: list[str] = []
    name = values.get("name") or city_name(city_id)
    if not values.get("name"):
        todo.append(f"name: {name!r} was derived from the id; check it")
    country = values.get("country") or f"{PLACEHOLDER} the city's country"
    if not values.get("country"):
        todo.append("country: placeholder; give the country")
    profile = {}
    for fname in required:
        spec = table.loc[fname]
        if values.get(fname) is None:
            v = placeholder_value(spec["minimum"], spec["maximum"])
            profile[fname] = _quantity(
                v,
                spec["unit"],
                None,
                f"{PLACEHOLDER} no value given to c3 new-pair; replace with the city's "
                "official figure and its source",
                "assumed",
                f"placeholder {v:g} {spec['unit']}: not a real figure",
            )
            todo.append(f"profile.{fname}: placeholder; give the value [{spec['unit']}]")
            continue
        v = float(values[fname])
        lo, hi = spec["minimum"], spec["maximum"]
        if not (pd.isna(lo) or v >= lo) or not (pd.isna(hi) or v <= hi):
            raise C3Error(
                f"cities/{city_id}.yaml: profile.{fname}: {v:g} is outside the allowed "
                f"range {lo:g} to {hi:g} [{spec['unit']}]"
            )
        if source:
            profile[fname] = _quantity(v, spec["unit"], year, source, "secondary", "")
        else:
            profile[fname] = _quantity(
                v,
                spec["unit"],
                year,
                "unsourced: given to c3 new-pair without a source; name the publication",
                "assumed",
                "",
            )
            todo.append(f"profile.{fname}: value given without a source; add its source")
    activity: dict[str, dict] = {}
    for req, by in (requires or {}).items():
        section, fname = req.split(".", 1)
        spec = field_table(section).loc[fname]
        v = placeholder_value(spec["minimum"], spec["maximum"])
        by = ", ".join(by)
        q = _quantity(
            v,
            spec["unit"],
            None,
            f"{PLACEHOLDER} required by {by} and not given to c3 new-pair; replace with the "
            "city's figure and its source",
            "assumed",
            f"placeholder {v:g} {spec['unit']}: not a real figure",
        )
        where = "profile" if section == "profile" else f"activity.{section}"
        (profile if section == "profile" else activity.setdefault(section, {}))[fname] = q
        todo.append(
            f"{where}.{fname}: placeholder; required by {by}; give the value [{spec['unit']}]"
        )
    header = [
        f"# City file scaffolded by `c3 new-pair` on {today.isoformat()}.",
        f'# Replace every value whose source starts with "{PLACEHOLDER}" with the city\'s own',
        "# figure, its unit, year, source and quality (official, secondary, derived, assumed).",
    ]
    data = {"id": city_id, "name": name, "country": country, "profile": profile}
    if activity:
        data["activity"] = activity
    body = _dump(data)
    optional = table.loc[[f for f in table.index if f not in profile]]
    lines = header + [body.rstrip("\n")]
    if len(optional):
        lines += [
            "# Optional profile fields the workbooks read (uncomment under profile: and fill):",
            *_commented_fields(optional, "  "),
        ]
    commented = []
    for aid in actions:
        try:
            fields = field_table(aid)
        except KeyError:
            continue
        fields = fields.loc[[f for f in fields.index if f not in activity.get(aid, {})]]
        commented += [f"#   {aid}:", *_commented_fields(fields, "    ")]
    if commented:
        lines += [
            "# Activity data per workbook, optional: a field left out uses its documented",
            "# default, flagged assumed in the case study. Uncomment what you have and fill it.",
            "# activity:" if not activity else "# (under activity: above)",
            *commented,
        ]
    return "\n".join(lines) + "\n", todo


def pair_yaml(
    catalog: Catalog,
    mentor: str,
    learning: str,
    names: Mapping[str, str],
    focus: Iterable[str] = (),
    source: str = "",
) -> tuple[str, list[str]]:
    """The text of a new pair file and the fields it leaves to fill.

    Parameters
    ----------
    catalog : Catalog
        The params folder's actions (for focus ids and action-list steps).
    mentor, learning : str
        City ids.
    names : mapping of str to str
        Display names of the two cities by id.
    focus : iterable of str
        Action ids the pair works on.
    source : str, optional
        The agreement or document naming the roles and focus; without it both are
        recorded as assumptions with a placeholder note.
    """
    pid = pair_id(mentor, learning)
    todo = []
    if source:
        basis, note = "sourced", source
    else:
        basis = "assumed"
        note = (
            f"{PLACEHOLDER} roles as given to c3 new-pair ({mentor} mentors {learning}); "
            "name the agreement that sets them, or explain why they are assumed"
        )
        todo.append("roles_note: roles assumed; give their source or the reasoning")
    focus_list = []
    for aid in dict.fromkeys(focus):
        if source:
            focus_list.append({"action": aid, "basis": "sourced", "source": source})
        else:
            focus_list.append(
                {
                    "action": aid,
                    "basis": "assumed",
                    "source": f"{PLACEHOLDER} focus given to c3 new-pair; name its source",
                }
            )
            todo.append(f"focus {aid}: assumed; give its source")
    if not focus_list:
        todo.append("focus: none recorded; add the actions the pair works on")
    data = {
        "id": pid,
        "name": f"{names[learning]}–{names[mentor]}",
        "mentor": mentor,
        "learning": learning,
        "roles_basis": basis,
        "roles_note": note,
        "focus": focus_list,
        "progress": {
            a.id: {s.id: {"status": "not-started", "date": None, "note": ""} for s in a.steps}
            for a in catalog.actions.values()
        },
    }
    header = (
        "# Pair file scaffolded by `c3 new-pair`. Progress: set each step's status to\n"
        "# not-started, in-progress or done, with the date (YYYY-MM-DD) and a note.\n"
    )
    return header + _dump(data, flow_leaves=True), todo


def _requirements(catalog: Catalog, city: City) -> tuple[dict[str, list[str]], list[str]]:
    """The required inputs no level gives ``city``, and a to-do line for each one that a level
    other than the city's own (its country file, a global default) does give."""
    country = catalog.country_of(city)
    unresolved: dict[str, list[str]] = {}
    resolved: list[str] = []
    for req, by in required_fields(catalog).items():
        section, fname = req.split(".", 1)
        row = city_inputs(city, section, country).loc[fname]
        where = "profile" if section == "profile" else f"activity.{section}"
        if row["quality"] == "missing":
            unresolved[req] = by
        elif not row["own"]:
            source = f"countries/{country.id}.yaml" if row["level"] == "country" else "a default"
            resolved.append(
                f"{where}.{fname}: required by {', '.join(by)}; taken from {source} "
                f"(level {row['level']}) until the city gives its own [{row['unit']}]"
            )
    return unresolved, resolved


def _inside(root: Path, path: Path) -> Path:
    """``path`` resolved, checked to lie in ``root`` (symbolic links followed)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise C3Error(f"refusing to write {path}: it resolves outside the params folder {root}")
    return resolved


def _check_with(catalog: Catalog, files: dict[str, str]) -> None:
    """Validate a copy of the params folder with ``files`` (relative path → text) added."""
    root = catalog.params_dir
    with tempfile.TemporaryDirectory(prefix="c3-new-pair-") as tmp:
        copy = Path(tmp) / "params"
        copy.mkdir()
        shutil.copy2(root / "actions.yaml", copy / "actions.yaml")
        for sub in ("cities", "pairs", "countries"):
            (copy / sub).mkdir()
            for rel in catalog.files:
                if rel.startswith(f"{sub}/"):
                    shutil.copy2(root / rel, copy / rel)
        for rel, text in files.items():
            (copy / rel).write_text(text, encoding="utf-8")
        try:
            load_catalog(copy)
        except ParamsErrors as exc:
            raise ParamsErrors(
                [
                    ParamsError(e.file.replace(str(copy), str(root)), e.field, e.message)
                    for e in exc.errors
                ]
            ) from None


def new_pair(
    mentor: str,
    learning: str,
    params_dir: str | os.PathLike | None = None,
    focus: Iterable[str] = (),
    values: Mapping[str, Mapping[str, object]] | None = None,
    source: str = "",
    values_source: str = "",
    values_year: int | None = None,
    force: bool = False,
) -> NewPair:
    """Write a new pair file, and a city file for each city the params folder lacks.

    Parameters
    ----------
    mentor, learning : str
        City ids (safe slugs). The pair's id is ``<learning>-<mentor>``.
    params_dir : path-like, optional
        The params folder (default :func:`c3lib.params.default_params_dir`); it must
        validate before and after.
    focus : iterable of str
        Action ids the pair works on.
    values : mapping, optional
        Per new city id: ``name``, ``country``, ``population`` [persons], ``area_km2``
        [km2], ``latitude`` [degrees], ``longitude`` [degrees].
    source : str, optional
        Source of the roles and focus (else both are recorded as assumed).
    values_source : str, optional
        Source of the given profile values (else they are flagged ``assumed``).
    values_year : int, optional
        Year of the given profile values.
    force : bool, optional
        Overwrite an existing pair file (existing city files are never touched).

    Returns
    -------
    NewPair

    Raises
    ------
    C3Error
        An unsafe id, the same city twice, an existing pair file without ``force``, an
        unknown focus action, values for a city that already exists, or a path outside
        the params folder.
    ParamsErrors
        The params folder does not validate, before or with the new files.
    """
    for role, cid in (("mentor", mentor), ("learning", learning)):
        if not is_safe_id(cid):
            raise C3Error(
                f"{role} city id {cid!r} is not a safe id: use lowercase letters, digits and "
                "single hyphens (at most 64 characters)"
            )
    if mentor == learning:
        raise C3Error(f"mentor and learning city are both {mentor!r}")
    pid = pair_id(mentor, learning)
    if not is_safe_id(pid):
        raise C3Error(f"pair id {pid!r} is longer than 64 characters; use shorter city ids")
    root = Path(params_dir) if params_dir else default_params_dir()
    catalog = load_catalog(root)
    focus = list(dict.fromkeys(focus))
    for aid in focus:
        if aid not in catalog.actions:
            raise C3Error(f"unknown focus action {aid!r}; known: {', '.join(catalog.actions)}")
    values = {k: dict(v) for k, v in (values or {}).items()}
    for cid in values:
        if cid not in (mentor, learning):
            raise C3Error(f"values given for {cid!r}, which is not one of the pair's cities")
        if cid in catalog.cities and any(v is not None for v in values[cid].values()):
            raise C3Error(
                f"{cid!r} already has a city file (cities/{cid}.yaml); edit its values there"
            )

    pair_rel = f"pairs/{pid}.yaml"
    pair_path = _inside(root, root / pair_rel)
    if pair_path.exists() and not force:
        raise C3Error(f"{root / pair_rel} already exists; use --force to overwrite it")

    files: dict[str, str] = {}
    todo: list[str] = []
    names = {}
    for cid in (mentor, learning):
        if cid in catalog.cities:
            names[cid] = catalog.cities[cid].name
            continue
        rel = f"cities/{cid}.yaml"
        if _inside(root, root / rel).exists():
            raise C3Error(f"{root / rel} exists but did not load as city {cid!r}")
        text, _ = city_yaml(cid, catalog.actions, values.get(cid), values_source, values_year)
        unresolved, resolved = _requirements(catalog, City.model_validate(yaml.safe_load(text)))
        text, city_todo = city_yaml(
            cid,
            catalog.actions,
            values.get(cid),
            values_source,
            values_year,
            requires=unresolved,
        )
        files[rel] = text
        todo += [f"{root / rel}: {t}" for t in city_todo + resolved]
        names[cid] = yaml.safe_load(text)["name"]
    text, pair_todo = pair_yaml(catalog, mentor, learning, names, focus, source)
    files[pair_rel] = text
    todo += [f"{root / pair_rel}: {t}" for t in pair_todo]

    notes = [
        f"{mentor} and {learning} are already paired in {p.id}"
        for p in catalog.pairs.values()
        if p.id != pid and {p.mentor, p.learning} == {mentor, learning}
    ]
    _check_with(catalog, files)
    written = []
    for rel, text in files.items():  # city files first: a pair never names a missing city
        path = _inside(root, root / rel)
        atomic_write(path, text)
        written.append(path)
        log.info("wrote %s", path)
    return NewPair(pid, written, todo, notes)
