"""Load and validate the params folder: actions, city pairs and cities.

Everything the workbooks read from ``params/`` passes through :func:`load_catalog`.
It is strict: unknown keys, missing keys, wrong types, out-of-range or negative
quantities, mismatched units, unknown or duplicate ids and ids that are not safe
slugs are all rejected with a :class:`~c3lib.exceptions.ParamsError` that names the
file and the field.

Layout of a params folder::

    params/
      actions.yaml              # the action items and their action-list steps
      pairs/<pair-id>.yaml      # one file per city pair
      cities/<city-id>.yaml     # one file per city

The fields a city may carry (its ``profile`` and its ``activity`` per action) are
declared, with unit, allowed range and a documented default, in the field tables
``c3lib/data/fields/<section>.csv`` (see :mod:`c3lib.reference`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from c3lib.exceptions import ParamsError, ParamsErrors
from c3lib.reference import field_table

__all__ = [
    "Quality",
    "Quantity",
    "City",
    "Pair",
    "Action",
    "Step",
    "StepStatus",
    "Focus",
    "Catalog",
    "SLUG_PATTERN",
    "MAX_FILE_BYTES",
    "default_params_dir",
    "load_catalog",
    "read_yaml",
    "city_inputs",
]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_FILE_BYTES = 1_000_000
STEP_STATUSES = ("not-started", "in-progress", "done")

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Quality = Literal["official", "secondary", "derived", "assumed"]
Basis = Literal["sourced", "assumed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Quantity(_Strict):
    """One sourced value: what it is, in which unit, from when and from whom."""

    value: float
    unit: Text
    year: int | None = None
    source: Text
    quality: Quality
    note: str = ""


class City(_Strict):
    """A city's profile and the activity data the workbooks use."""

    id: Slug
    name: Text
    country: Text
    profile: dict[str, Quantity]
    activity: dict[Slug, dict[str, Quantity]] = Field(default_factory=dict)


class Focus(_Strict):
    """An action a pair is known (or assumed) to work on."""

    action: Slug
    basis: Basis
    source: Text


class StepStatus(_Strict):
    """Progress of one action-list step for one pair."""

    status: Literal["not-started", "in-progress", "done"]
    date: dt.date | None = None
    note: str = ""


class Pair(_Strict):
    """A mentor city and a learning city working through action lists together."""

    id: Slug
    name: Text
    mentor: Slug
    learning: Slug
    roles_basis: Basis
    roles_note: Text
    focus: list[Focus]
    progress: dict[Slug, dict[Slug, StepStatus]] = Field(default_factory=dict)
    parameters: dict[Slug, dict[str, Any]] = Field(default_factory=dict)


class Step(_Strict):
    """One step of an action list."""

    id: Slug
    title: Text
    source: Text


class Action(_Strict):
    """An action item: one workbook and its action-list steps."""

    id: Slug
    title: Text
    notebook: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+\.ipynb$")]
    summary: Text
    steps: list[Step] = Field(min_length=1)
    sources: list[Text] = Field(min_length=1)


class _ActionsFile(_Strict):
    actions: list[Action] = Field(min_length=1)


@dataclass(frozen=True)
class Catalog:
    """Everything in one validated params folder.

    Attributes
    ----------
    params_dir : Path
        The folder the catalog was read from.
    actions, pairs, cities : dict
        Validated records keyed by id, in file order (actions) or id order.
    files : dict
        SHA-256 of every file read, keyed by path relative to ``params_dir``.
    """

    params_dir: Path
    actions: dict[str, Action]
    pairs: dict[str, Pair]
    cities: dict[str, City]
    files: dict[str, str] = field(default_factory=dict)

    def pair_hash(self, pair_id: str) -> str:
        """SHA-256 over the actions file, the pair's file and both its cities' files."""
        pair = self.pairs[pair_id]
        names = ["actions.yaml", f"pairs/{pair_id}.yaml"]
        names += [f"cities/{pair.mentor}.yaml", f"cities/{pair.learning}.yaml"]
        h = hashlib.sha256()
        for name in names:
            h.update(name.encode())
            h.update(self.files.get(name, "").encode())
        return h.hexdigest()

    def roles(self, pair_id: str) -> dict[str, City]:
        """The pair's cities keyed by role (``mentor``, ``learning``)."""
        pair = self.pairs[pair_id]
        return {"mentor": self.cities[pair.mentor], "learning": self.cities[pair.learning]}


def default_params_dir() -> Path:
    """The params folder used when none is given: ``$C3_PARAMS`` or the repository's ``params/``."""
    env = os.environ.get("C3_PARAMS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "params"


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML loader (libyaml's parser where PyYAML has it) that rejects duplicate keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, label: str | None = None) -> tuple[dict, str]:
    """Read one params file with a safe loader.

    Parameters
    ----------
    path : Path
        File to read.
    label : str, optional
        How to name the file in errors (defaults to ``path``).

    Returns
    -------
    data : dict
        The parsed mapping.
    digest : str
        SHA-256 of the file's bytes.

    Raises
    ------
    ParamsError
        The file is missing, too large, not UTF-8, empty, malformed or not a mapping.
    """
    label = label or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ParamsError(label, "", f"cannot read file ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ParamsError(label, "", f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(label, "", f"file is not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError(label, "", f"malformed YAML{where}: {problem}") from None
    if data is None:
        raise ParamsError(label, "", "file is empty; expected a mapping of fields")
    if not isinstance(data, dict):
        raise ParamsError(label, "", f"expected a mapping of fields, got {type(data).__name__}")
    return data, hashlib.sha256(raw).hexdigest()


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model(cls: type[BaseModel], data: dict, label: str, prefix: str = "") -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = _loc(err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "string_pattern_mismatch":
                msg = "not a safe id: use lowercase letters, digits and single hyphens"
            elif err["type"] == "missing":
                msg = "required field is missing"
            errors.append(ParamsError(label, f"{prefix}{loc}" if loc else prefix, msg))
        raise ParamsErrors(errors) from None


def _check_quantities(
    label: str, prefix: str, section: str, values: dict[str, Quantity]
) -> list[ParamsError]:
    """Check names, units and ranges of a section's quantities against its field table."""
    errors: list[ParamsError] = []
    try:
        table = field_table(section)
    except KeyError:
        return [ParamsError(label, prefix, f"no workbook declares activity data for {section!r}")]
    for name, q in values.items():
        where = f"{prefix}.{name}"
        if name not in table.index:
            known = ", ".join(sorted(table.index))
            errors.append(ParamsError(label, where, f"unknown field; known fields: {known}"))
            continue
        spec = table.loc[name]
        if q.unit != spec["unit"]:
            errors.append(
                ParamsError(label, f"{where}.unit", f"got {q.unit!r}, expected {spec['unit']!r}")
            )
        if not math.isfinite(q.value):
            errors.append(ParamsError(label, f"{where}.value", "must be a finite number"))
            continue
        lo, hi = spec["minimum"], spec["maximum"]
        if not pd.isna(lo) and q.value < lo:
            kind = "negative" if q.value < 0 <= lo else "too small"
            errors.append(
                ParamsError(label, f"{where}.value", f"{kind}: {q.value:g} < minimum {lo:g}")
            )
        if not pd.isna(hi) and q.value > hi:
            errors.append(
                ParamsError(label, f"{where}.value", f"implausible: {q.value:g} > maximum {hi:g}")
            )
    if section == "profile":
        for name in table.index[table["required"].astype(bool)]:
            if name not in values:
                errors.append(ParamsError(label, f"{prefix}.{name}", "required field is missing"))
    return errors


def _label(path: Path) -> str:
    """How errors name a file: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read_folder(params_dir: Path, sub: str) -> list[Path]:
    folder = params_dir / sub
    if not folder.is_dir():
        raise ParamsErrors([ParamsError(_label(folder), "", "folder is missing")])
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))


def load_catalog(params_dir: str | os.PathLike | None = None) -> Catalog:
    """Read and validate a whole params folder.

    Parameters
    ----------
    params_dir : path-like, optional
        The folder (default :func:`default_params_dir`).

    Returns
    -------
    Catalog

    Raises
    ------
    ParamsErrors
        Every problem found, each naming its file and field.
    """
    root = Path(params_dir) if params_dir else default_params_dir()
    errors: list[ParamsError] = []
    files: dict[str, str] = {}

    def parse(path: Path, cls: type[BaseModel]) -> Any:
        rel = path.relative_to(root).as_posix()
        label = _label(path)
        try:
            data, digest = read_yaml(path, label)
            files[rel] = digest
            return _model(cls, data, label)
        except ParamsError as exc:
            errors.append(exc)
        except ParamsErrors as exc:
            errors.extend(exc.errors)
        return None

    actions: dict[str, Action] = {}
    actions_file = root / "actions.yaml"
    parsed = parse(actions_file, _ActionsFile)
    if parsed:
        for i, action in enumerate(parsed.actions):
            if action.id in actions:
                errors.append(
                    ParamsError(
                        _label(actions_file),
                        f"actions[{i}].id",
                        f"duplicate action id {action.id!r}",
                    )
                )
            step_ids = [s.id for s in action.steps]
            for j, sid in enumerate(step_ids):
                if sid in step_ids[:j]:
                    errors.append(
                        ParamsError(
                            _label(actions_file),
                            f"actions[{i}].steps[{j}].id",
                            f"duplicate step id {sid!r}",
                        )
                    )
            actions[action.id] = action

    cities: dict[str, City] = {}
    try:
        city_paths = _read_folder(root, "cities")
        pair_paths = _read_folder(root, "pairs")
    except ParamsErrors as exc:
        raise ParamsErrors(errors + exc.errors) from None

    for path in city_paths:
        city = parse(path, City)
        if city is None:
            continue
        label = _label(path)
        if city.id != path.stem:
            errors.append(
                ParamsError(label, "id", f"{city.id!r} does not match the file name {path.stem!r}")
            )
        if city.id in cities:
            errors.append(ParamsError(label, "id", f"duplicate city id {city.id!r}"))
        errors += _check_quantities(label, "profile", "profile", city.profile)
        for section, values in city.activity.items():
            if section not in actions:
                errors.append(
                    ParamsError(
                        label,
                        f"activity.{section}",
                        f"unknown action id; known: {', '.join(actions)}",
                    )
                )
                continue
            errors += _check_quantities(label, f"activity.{section}", section, values)
        cities[city.id] = city

    pairs: dict[str, Pair] = {}
    for path in pair_paths:
        pair = parse(path, Pair)
        if pair is None:
            continue
        label = _label(path)
        if pair.id != path.stem:
            errors.append(
                ParamsError(label, "id", f"{pair.id!r} does not match the file name {path.stem!r}")
            )
        if pair.id in pairs:
            errors.append(ParamsError(label, "id", f"duplicate pair id {pair.id!r}"))
        for role in ("mentor", "learning"):
            cid = getattr(pair, role)
            if cid not in cities:
                errors.append(
                    ParamsError(
                        label, role, f"unknown city {cid!r}; known: {', '.join(sorted(cities))}"
                    )
                )
        if pair.mentor == pair.learning:
            errors.append(ParamsError(label, "learning", "must differ from mentor"))
        for i, focus in enumerate(pair.focus):
            if focus.action not in actions:
                errors.append(
                    ParamsError(label, f"focus[{i}].action", f"unknown action {focus.action!r}")
                )
        for aid, steps in pair.progress.items():
            if aid not in actions:
                errors.append(ParamsError(label, f"progress.{aid}", "unknown action id"))
                continue
            known = {s.id for s in actions[aid].steps}
            for sid in steps:
                if sid not in known:
                    errors.append(
                        ParamsError(
                            label,
                            f"progress.{aid}.{sid}",
                            f"unknown step; known: {', '.join(sorted(known))}",
                        )
                    )
        for aid, values in pair.parameters.items():
            if aid not in actions:
                errors.append(ParamsError(label, f"parameters.{aid}", "unknown action id"))
            for name in values:
                if name in ("pair", "params_dir"):
                    errors.append(
                        ParamsError(
                            label,
                            f"parameters.{aid}.{name}",
                            "set by the pipeline; cannot be overridden",
                        )
                    )
        pairs[pair.id] = pair

    if errors:
        raise ParamsErrors(errors)
    return Catalog(root, actions, pairs, cities, files)


def city_inputs(city: City, section: str) -> pd.DataFrame:
    """Every declared input of a section for one city: its own value or the default.

    Where the city's params give no value the documented default from the field table
    is used and flagged ``assumed``; defaults with ``scale = per_capita`` are multiplied
    by the city's population.

    Parameters
    ----------
    city : City
        The city.
    section : str
        ``profile`` or an action id.

    Returns
    -------
    pandas.DataFrame
        Indexed by field, with columns ``value``, ``unit``, ``year``, ``source``,
        ``quality``, ``note``, ``description`` and ``own`` (True where the city's own
        params supplied the value).
    """
    table = field_table(section)
    own = city.profile if section == "profile" else city.activity.get(section, {})
    population = city.profile["population"].value
    rows = []
    for name, spec in table.iterrows():
        if name in own:
            q = own[name]
            rows.append(
                dict(
                    field=name,
                    value=q.value,
                    unit=q.unit,
                    year=q.year,
                    source=q.source,
                    quality=q.quality,
                    note=q.note,
                    own=True,
                )
            )
            continue
        if pd.isna(spec["default"]):
            rows.append(
                dict(
                    field=name,
                    value=float("nan"),
                    unit=spec["unit"],
                    year=None,
                    source="",
                    quality="missing",
                    note="no value and no default",
                    own=False,
                )
            )
            continue
        value = float(spec["default"])
        note = spec["default_note"]
        if spec["scale"] == "per_capita":
            value *= population
            note = f"{note} (per-capita default × population {population:,.0f})"
        rows.append(
            dict(
                field=name,
                value=value,
                unit=spec["unit"],
                year=None,
                source=spec["default_source"],
                quality="assumed",
                note=note,
                own=False,
            )
        )
    out = pd.DataFrame(rows).set_index("field")
    out["description"] = table["description"]
    return out


_SAFE_ID = re.compile(SLUG_PATTERN)


def is_safe_id(value: str) -> bool:
    """Whether ``value`` is a safe slug id (lowercase letters, digits, single hyphens)."""
    return bool(_SAFE_ID.match(value)) and len(value) <= 64
