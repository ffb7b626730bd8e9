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
      countries/<id>.yaml       # one file per country: national values and figures

Every input a workbook reads is resolved for a city in one order (:func:`city_inputs`):
the city's own value (level ``city``, or ``region`` for a metro-area, province or state
figure) → its country's value (level ``country``; a national total downscaled by the
stated proxy, population) → the documented global default of the field table (level
``global``, flagged ``assumed``). A value never comes from another country's city.

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
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from c3lib.exceptions import ParamsError, ParamsErrors
from c3lib.reference import field_rules, field_table, parameter_ranges

__all__ = [
    "Quality",
    "Level",
    "Quantity",
    "CountryQuantity",
    "Published",
    "Measure",
    "Country",
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
    "read_bounded",
    "city_inputs",
    "check_parameter_values",
    "check_parameter_rules",
]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_FILE_BYTES = 1_000_000
STEP_STATUSES = ("not-started", "in-progress", "done")

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Quality = Literal["official", "secondary", "derived", "assumed"]
Level = Literal["city", "region", "country", "global"]
Basis = Literal["sourced", "assumed"]
Pollutant = Literal["PM2.5", "PM10", "NOx", "SO2", "CO", "NMVOC", "BC", "CO2", "CO2e"]
Year = Annotated[int, Field(ge=1900, le=2100)]
LEVERS = (
    "vessel-speed-reduction",
    "shore-power",
    "fuel-sulphur",
    "equipment-electrification",
    "cleaner-che",
    "restaurant-control-rule",
    "bike-share-system",
    "low-emission-zone",
    "fleet-standard",
    "fuel-standard",
    "public-transport",
    "industry-agreement",
    "other",
)
Lever = Literal[LEVERS]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Value(_Strict):
    """What every sourced value carries: the number, its unit, year, source and quality."""

    value: float
    unit: Text
    year: Year | None = None
    source: Text
    quality: Quality
    note: str = ""


class Quantity(_Value):
    """One sourced value of a city: what it is, in which unit, from when and from whom.

    ``level`` says where a city's value comes from: ``city`` (its own figure) or
    ``region`` (its metro area's, province's or state's figure applied to it).
    """

    level: Literal["city", "region"] = "city"


class CountryQuantity(_Value):
    """A national value, and how it is brought down to a city.

    ``proxy`` ``population``: the value is a national total, and a city gets its share by
    population; ``none``: an intensive value (per vehicle, per person, a share, a factor)
    used for the city as it is.
    """

    proxy: Literal["population", "none"]


class Published(_Strict):
    """A published figure to set a workbook's result beside.

    ``metric`` names what is compared (``total_emissions``, ``sector_emissions``,
    ``sector_share``, …); in a country file ``proxy`` ``population`` scales a national
    figure to the city by population before the comparison.
    """

    action: Slug
    metric: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    sector: Slug | None = None
    pollutant: Pollutant | None = None
    value: float
    unit: Text
    year: Year | None = None
    level: Literal["city", "region"] = "city"
    proxy: Literal["population", "none"] = "none"
    source: Text
    quality: Quality
    note: str = ""


class Setting(_Strict):
    """A measure's setting in the workbook's unit."""

    value: float
    unit: Text


class Effect(_Strict):
    """A measure's published measured effect: a fractional change, or a value."""

    quantity: Text
    change: float | None = None
    value: float | None = None
    unit: str | None = None
    before_year: Year | None = None
    after_year: Year | None = None
    source: Text
    note: str = ""


class Measure(_Strict):
    """Something a city has done: what, when, where, its published effect and source."""

    action: Slug
    measure: Text
    lever: Lever | None = None
    setting: Setting | None = None
    start_year: Year
    end_year: Year | None = None
    where: str = ""
    effect: Effect | None = None
    source: Text
    note: str = ""


class City(_Strict):
    """A city's profile and the activity data the workbooks use."""

    id: Slug
    name: Text
    country: Text
    profile: dict[str, Quantity]
    activity: dict[Slug, dict[str, Quantity]] = Field(default_factory=dict)
    published: list[Published] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    measures_note: str = ""


class NationalPopulation(_Value):
    value: Annotated[float, Field(gt=0)]
    unit: Literal["persons"]


class Country(_Strict):
    """A country's national values (by section) and published national figures."""

    id: Slug
    name: Text
    aliases: list[Text] = Field(default_factory=list)
    population: NationalPopulation
    values: dict[Slug, dict[str, CountryQuantity]] = Field(default_factory=dict)
    published: list[Published] = Field(default_factory=list)

    def matches(self, name: str) -> bool:
        """Whether a city's ``country`` text names this country."""
        names = {self.id, self.name, *self.aliases}
        return name.strip().casefold() in {n.casefold() for n in names}


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

    @field_validator("date")
    @classmethod
    def _plausible_date(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and not 1900 <= v.year <= 2100:
            raise ValueError(f"date {v.isoformat()} is outside the years 1900-2100")
        return v


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


Requirement = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+\.[a-z0-9_]+$")]


class Action(_Strict):
    """An action item: one workbook and its action-list steps."""

    id: Slug
    title: Text
    notebook: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+\.ipynb$")]
    summary: Text
    steps: list[Step] = Field(min_length=1)
    sources: list[Text] = Field(min_length=1)
    reads: list[Slug] = Field(default_factory=list)  # other actions' inputs it uses
    #: ``<section>.<field>`` inputs the notebook cannot run without (section ``profile`` or
    #: an action id); each must have a value at some level for both cities of every pair.
    requires: list[Requirement] = Field(default_factory=list)


class _ActionsFile(_Strict):
    actions: list[Action] = Field(min_length=1)


@dataclass(frozen=True)
class Catalog:
    """Everything in one validated params folder.

    Attributes
    ----------
    params_dir : Path
        The folder the catalog was read from.
    actions, pairs, cities, countries : dict
        Validated records keyed by id, in file order (actions) or id order.
    files : dict
        SHA-256 of every file read, keyed by path relative to ``params_dir``.
    """

    params_dir: Path
    actions: dict[str, Action]
    pairs: dict[str, Pair]
    cities: dict[str, City]
    files: dict[str, str] = field(default_factory=dict)
    countries: dict[str, Country] = field(default_factory=dict)

    def country_of(self, city: City) -> Country | None:
        """The country file describing ``city``'s country, or None when there is none."""
        return next((c for c in self.countries.values() if c.matches(city.country)), None)

    def pair_files(self, pair_id: str) -> tuple[str, ...]:
        """The params files a pair's runs read, relative to ``params_dir``.

        The actions file, the pair's file, both cities' files and their countries' files.
        """
        pair = self.pairs[pair_id]
        names = ["actions.yaml", f"pairs/{pair_id}.yaml"]
        names += [f"cities/{pair.mentor}.yaml", f"cities/{pair.learning}.yaml"]
        for cid in (pair.mentor, pair.learning):
            country = self.country_of(self.cities[cid])
            if country is not None and f"countries/{country.id}.yaml" not in names:
                names.append(f"countries/{country.id}.yaml")
        return tuple(names)

    def pair_hash(self, pair_id: str) -> str:
        """SHA-256 over the files the pair's runs read (:meth:`pair_files`)."""
        h = hashlib.sha256()
        for name in self.pair_files(pair_id):
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
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a key must be a plain value, got {type(key).__name__}",
                key_node.start_mark,
            ) from None
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_bounded(path: Path, label: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    A FIFO, a device, a socket or a folder is refused before it is opened (so nothing
    hangs), and the file is read to ``limit + 1`` bytes at most whatever size it reports.

    Raises
    ------
    ParamsError
        The file is missing, unreadable, not a regular file or larger than ``limit``.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise ParamsError(label, "", f"is {kind}; expected a YAML file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced since the stat
                raise ParamsError(label, "", "is not a regular file; expected a YAML file")
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ParamsError(label, "", f"cannot read file ({exc.strerror or exc})") from None
    if len(raw) > limit:
        raise ParamsError(label, "", f"file is over {limit:,} bytes; the limit is {limit:,}")
    return raw


def _no_aliases(text: str, label: str) -> None:
    """Refuse YAML anchors and aliases: an alias can multiply a small file without bound."""
    try:
        for event in yaml.parse(text, Loader=_UniqueKeyLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                raise ParamsError(
                    label,
                    "",
                    f"YAML anchor or alias at line {mark.line + 1}, column {mark.column + 1}: "
                    "not allowed in params files; write the value out",
                )
    except yaml.YAMLError:
        return  # the loader reports it with its position


def _bad_node(text: str) -> str:
    """The dotted path of the first value or key in ``text`` that cannot be constructed."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return ""
    builder = yaml.SafeLoader("")
    stack = [(root, "")]
    while stack:
        node, where = stack.pop(0)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    return where
                name = f"{where}.{key.value}" if where else str(key.value)
                stack.append((value, name))
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, f"{where}[{i}]") for i, item in enumerate(node.value)]
        elif node is not None:
            try:
                builder.construct_object(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError):
                return where
    return ""


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
    raw = read_bounded(Path(path), label)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(label, "", f"file is not UTF-8 text (byte {exc.start})") from None
    _no_aliases(text, label)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        field = _bad_node(text) if isinstance(exc, yaml.constructor.ConstructorError) else ""
        raise ParamsError(label, field, f"malformed YAML{where}: {problem}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # the constructors raise these for values that parse but do not exist (2015-02-30)
        raise ParamsError(label, _bad_node(text), f"not a valid value: {exc}") from None
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
    label: str,
    prefix: str,
    section: str,
    values: dict[str, Quantity | CountryQuantity],
    required: bool = True,
) -> list[ParamsError]:
    """Check names, units and ranges of a section's quantities against its field table.

    A national total (``proxy: population``) is checked for its sign only: its range is
    the city's, after downscaling.
    """
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
        if not pd.isna(hi) and q.value > hi and getattr(q, "proxy", "none") == "none":
            errors.append(
                ParamsError(label, f"{where}.value", f"implausible: {q.value:g} > maximum {hi:g}")
            )
    if section == "profile" and required:
        for name in table.index[table["required"].astype(bool)]:
            if name not in values:
                errors.append(ParamsError(label, f"{prefix}.{name}", "required field is missing"))
    return errors


def _check_records(
    label: str, published: list[Published], measures: list[Measure], actions: dict
) -> list[ParamsError]:
    """Check that published figures and measures name known actions and sensible years."""
    errors = []
    for key, items in (("published", published), ("measures", measures)):
        for i, item in enumerate(items):
            if item.action not in actions:
                errors.append(
                    ParamsError(
                        label,
                        f"{key}[{i}].action",
                        f"unknown action id {item.action!r}; known: {', '.join(actions)}",
                    )
                )
    for i, m in enumerate(measures):
        if m.end_year is not None and m.end_year < m.start_year:
            errors.append(ParamsError(label, f"measures[{i}].end_year", "is before start_year"))
        e = m.effect
        if e is not None and e.change is None and e.value is None:
            errors.append(ParamsError(label, f"measures[{i}].effect", "needs change or value"))
        if e is not None and e.value is not None and not e.unit:
            errors.append(ParamsError(label, f"measures[{i}].effect.unit", "required with value"))
    for i, f in enumerate(published):
        if not math.isfinite(f.value):
            errors.append(ParamsError(label, f"published[{i}].value", "must be a finite number"))
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
        for i, action in enumerate(parsed.actions):
            for j, other in enumerate(action.reads):
                if other not in actions:
                    errors.append(
                        ParamsError(
                            _label(actions_file),
                            f"actions[{i}].reads[{j}]",
                            f"unknown action id {other!r}",
                        )
                    )

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
        errors += _check_records(label, city.published, city.measures, actions)
        cities[city.id] = city

    countries: dict[str, Country] = {}
    country_dir = root / "countries"
    for path in _read_folder(root, "countries") if country_dir.is_dir() else []:
        country = parse(path, Country)
        if country is None:
            continue
        label = _label(path)
        if country.id != path.stem:
            errors.append(
                ParamsError(
                    label, "id", f"{country.id!r} does not match the file name {path.stem!r}"
                )
            )
        for other in countries.values():
            if any(other.matches(n) for n in (country.id, country.name, *country.aliases)):
                errors.append(ParamsError(label, "name", f"names the same country as {other.id!r}"))
        for section, values in country.values.items():  # noqa: PD011 - not pandas
            if section != "profile" and section not in actions:
                errors.append(
                    ParamsError(
                        label,
                        f"values.{section}",
                        f"unknown section; known: profile, {', '.join(actions)}",
                    )
                )
                continue
            errors += _check_quantities(label, f"values.{section}", section, values, False)
            if section == "profile" and "population" in values:
                errors.append(
                    ParamsError(label, "values.profile.population", "give it as population")
                )
        errors += _check_records(label, country.published, [], actions)
        countries[country.id] = country

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
            errors += check_parameter_values(label, aid, values)
        pairs[pair.id] = pair

    catalog = Catalog(root, actions, pairs, cities, files, countries)
    errors += _check_requirements(catalog, _label(actions_file))
    errors += _check_input_rules(catalog)
    if errors:
        raise ParamsErrors(errors)
    return catalog


def _check_requirements(catalog: Catalog, actions_label: str) -> list[ParamsError]:
    """Check that both cities of every pair have a value for every field its workbooks require.

    A field counts as available when any level of :func:`city_inputs` gives it a value
    (the city, its region, its country or a global default). Each missing field is
    reported once per city file, naming the actions that need it and the pairs that run
    them; a requirement naming an unknown section or field is reported in the actions file.
    """
    errors: list[ParamsError] = []
    needs: dict[tuple[str, str], list[str]] = {}  # (section, field) -> action ids
    for i, action in enumerate(catalog.actions.values()):
        for j, req in enumerate(action.requires):
            section, name = req.split(".", 1)
            try:
                known = field_table(section).index
            except KeyError:
                known = None
            if section != "profile" and section not in catalog.actions:
                known = None
            if known is None or name not in known:
                what = "section" if known is None else "field"
                errors.append(
                    ParamsError(actions_label, f"actions[{i}].requires[{j}]", f"unknown {what}")
                )
                continue
            needs.setdefault((section, name), []).append(action.id)
    missing: dict[tuple[str, str, str], list[str]] = {}  # (city, section, field) -> pair ids
    for pair in catalog.pairs.values():
        for cid in dict.fromkeys((pair.mentor, pair.learning)):
            city = catalog.cities.get(cid)
            if city is None or "population" not in city.profile:
                continue  # reported already
            country = catalog.country_of(city)
            resolved = {}
            for section, name in needs:
                if section not in resolved:
                    resolved[section] = city_inputs(city, section, country)["quality"]
                if resolved[section].get(name) == "missing":
                    missing.setdefault((cid, section, name), []).append(pair.id)
    for (cid, section, name), pair_ids in missing.items():
        rel = next(
            (r for r in catalog.files if r.startswith("cities/") and Path(r).stem == cid),
            f"cities/{cid}.yaml",
        )
        path = catalog.params_dir / rel
        where = f"{section}.{name}" if section == "profile" else f"activity.{section}.{name}"
        errors.append(
            ParamsError(
                _label(path),
                where,
                f"required by {', '.join(needs[(section, name)])} "
                f"(pair {', '.join(pair_ids)}); no value at city, region, country or global level",
            )
        )
    return errors


def check_parameter_values(label: str, action: str, values: dict[str, Any]) -> list[ParamsError]:
    """Check a pair's overrides of one workbook's parameters against their declared ranges.

    Every number must be finite and within ``c3lib/data/parameter_ranges.csv``; a text
    parameter with allowed words must be one of them. Whether the notebook declares the
    parameter, and its type, is checked when a build is planned
    (:func:`c3lib.build.plan.check_overrides`).

    Parameters
    ----------
    label : str
        The pair file, as errors name it.
    action : str
        The action id.
    values : dict
        Parameter name → value.

    Returns
    -------
    list of ParamsError
        One per problem, field ``parameters.<action>.<name>``.
    """
    ranges = parameter_ranges()
    errors = []
    for name, v in values.items():
        where = f"parameters.{action}.{name}"
        if isinstance(v, float) and not math.isfinite(v):
            errors.append(ParamsError(label, where, f"must be a finite number, got {v!r}"))
            continue
        if not isinstance(v, bool | int | float | str):
            errors.append(
                ParamsError(label, where, f"expected a number or text, got {type(v).__name__}")
            )
            continue
        if (action, name) not in ranges.index:
            continue
        spec = ranges.loc[(action, name)]
        allowed = spec["allowed"]
        if allowed and v not in allowed:
            errors.append(ParamsError(label, where, f"got {v!r}; expected one of {list(allowed)}"))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            lo, hi = spec["minimum"], spec["maximum"]
            if not pd.isna(lo) and v < lo:
                errors.append(ParamsError(label, where, f"too small: {v:g} < minimum {lo:g}"))
            elif not pd.isna(hi) and v > hi:
                errors.append(ParamsError(label, where, f"implausible: {v:g} > maximum {hi:g}"))
    return errors


def _rule_problem(check: str, limit: float, values: list[float]) -> str:
    """What breaks a rule of ``c3lib/data/field_rules.csv`` ("" when it holds)."""
    if check == "increasing":
        if any(b <= a for a, b in zip(values, values[1:], strict=False)):
            return "must each be larger than the one before"
        return ""
    total = math.fsum(values)
    if check == "sum_at_most" and total > limit + 1e-9:
        return f"add up to {total:.6g}; expected at most {limit:g}"
    if check == "sum_above" and total <= limit:
        return f"add up to {total:.6g}; expected more than {limit:g}"
    return ""


def check_parameter_rules(action: str, values: dict[str, Any], where) -> list[ParamsError]:
    """Check one workbook's parameters (defaults with overrides) against the field rules.

    Parameters
    ----------
    action : str
        The action id.
    values : dict
        Every parameter's effective value.
    where : callable
        ``where(names)`` → (file label, field) naming where the rule's values come from.

    Returns
    -------
    list of ParamsError
    """
    rules = field_rules()
    errors = []
    for _, rule in rules[
        (rules["applies_to"] == "parameters") & (rules["section"] == action)
    ].iterrows():
        names = [n for n in rule["fields"] if n in values]
        nums = [values[n] for n in names]
        if len(names) < 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in nums
        ):
            continue  # a type or range error, reported by itself
        problem = _rule_problem(rule["check"], rule["limit"], [float(v) for v in nums])
        if problem:
            shown = ", ".join(f"{n} = {values[n]!r}" for n in names)
            label, field_ = where(names)
            errors.append(ParamsError(label, field_, f"{rule['rule']}: {shown} {problem}"))
    return errors


def _check_input_rules(catalog: Catalog) -> list[ParamsError]:
    """Check every city's inputs against the rules of ``c3lib/data/field_rules.csv``.

    A rule ``over`` ``resolved`` looks at every value a run uses (the city's, its
    country's or the global default); ``own`` at the city's own values only. The error
    names the city file, or the country file when none of the values is the city's own.
    """
    rules = field_rules()
    rules = rules[rules["applies_to"] == "inputs"]
    errors: list[ParamsError] = []
    for city in catalog.cities.values():
        if "population" not in city.profile:
            continue  # reported already
        country = catalog.country_of(city)
        city_label = _label(catalog.params_dir / "cities" / f"{city.id}.yaml")
        resolved: dict[str, pd.DataFrame | None] = {}
        for _, rule in rules.iterrows():
            section = rule["section"]
            own_values = city.profile if section == "profile" else city.activity.get(section, {})
            national = country.values.get(section, {}) if country else {}  # noqa: PD011
            if not any(n in own_values or n in national for n in rule["fields"]):
                continue  # global defaults only: checked with the field tables' tests
            if section not in resolved:
                try:
                    resolved[section] = city_inputs(city, section, country)
                except (KeyError, ValueError):
                    resolved[section] = None
            inputs = resolved[section]
            if inputs is None:
                continue
            names = [n for n in rule["fields"] if n in inputs.index]
            rows = inputs.loc[names]
            if rule["over"] == "own":
                rows = rows[rows["own"].astype(bool)]
            rows = rows[rows["value"].notna()]
            if len(rows) < 2 and rule["check"] == "increasing":
                continue
            values = [float(v) for v in rows["value"]]
            if not all(math.isfinite(v) for v in values):
                continue
            problem = _rule_problem(rule["check"], rule["limit"], values)
            if not problem:
                continue
            shown = ", ".join(f"{n} = {r['value']:g} ({r['level']})" for n, r in rows.iterrows())
            own = rows.index[rows["own"].astype(bool)]
            prefix = "profile" if section == "profile" else f"activity.{section}"
            label, where = city_label, f"{prefix}.{own[0]}" if len(own) else prefix
            if not len(own) and country is not None and (rows["level"] == "country").any():
                label = _label(catalog.params_dir / "countries" / f"{country.id}.yaml")
                where = f"values.{section}.{rows.index[rows['level'] == 'country'][0]}"
            errors.append(ParamsError(label, where, f"{rule['rule']}: {shown} {problem}"))
    return errors


def city_inputs(city: City, section: str, country: Country | None = None) -> pd.DataFrame:
    """Every declared input of a section for one city, each resolved at the first level found.

    The order: the city's own value (level ``city`` or ``region``, as its file records)
    → the country's value (level ``country``: a national total with ``proxy:
    population`` is multiplied by the city's share of the national population and
    flagged ``derived``; an intensive value is used as it is) → the field table's
    documented global default (level ``global``, flagged ``assumed``; ``scale =
    per_capita`` defaults are multiplied by the city's population). A field with ``scale =
    profile`` in an action's table is the city's profile value of that name (its population,
    say), with the profile's source and level. A field with none of these is ``missing``.

    Parameters
    ----------
    city : City
        The city.
    section : str
        ``profile`` or an action id.
    country : Country, optional
        The city's country (:meth:`Catalog.country_of`); None when no country file
        describes it, so that only the city's own values and global defaults apply.

    Returns
    -------
    pandas.DataFrame
        Indexed by field, with columns ``value``, ``unit``, ``year``, ``source``,
        ``quality``, ``note``, ``level``, ``own`` (True where the city's own params
        supplied the value) and ``description``.
    """
    table = field_table(section)
    own = city.profile if section == "profile" else city.activity.get(section, {})
    national = country.values.get(section, {}) if country else {}  # noqa: PD011 - not pandas
    population = city.profile["population"].value
    rows = []
    for name, spec in table.iterrows():
        if spec["scale"] == "profile" and section != "profile":
            # the city's profile value, read where an action needs it (e.g. population)
            own_here = city.profile
        else:
            own_here = own
        if name in own_here:
            q = own_here[name]
            rows.append(
                dict(
                    field=name,
                    value=q.value,
                    unit=q.unit,
                    year=q.year,
                    source=q.source,
                    quality=q.quality,
                    note=q.note,
                    level=q.level,
                    own=True,
                )
            )
        elif name in national:
            rows.append(_from_country(name, national[name], country, population))
        elif pd.isna(spec["default"]):
            rows.append(
                dict(
                    field=name,
                    value=float("nan"),
                    unit=spec["unit"],
                    year=None,
                    source="",
                    quality="missing",
                    note="no value and no default",
                    level="global",
                    own=False,
                )
            )
        else:
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
                    level="global",
                    own=False,
                )
            )
    out = pd.DataFrame(rows).set_index("field")
    out["description"] = table["description"]
    return out


def _from_country(name: str, q: CountryQuantity, country: Country, population: float) -> dict:
    """One field's row from a national value, downscaled by its proxy."""
    value, quality, note = q.value, q.quality, q.note
    if q.proxy == "population":
        share = population / country.population.value
        value = q.value * share
        quality = "derived"
        scaled = (
            f"{country.name} total {q.value:,.6g} {q.unit} × population share "
            f"{population:,.0f} / {country.population.value:,.0f}"
        )
        note = f"{scaled}; {note}" if note else scaled
    return dict(
        field=name,
        value=value,
        unit=q.unit,
        year=q.year,
        source=q.source,
        quality=quality,
        note=note,
        level="country",
        own=False,
    )


_SAFE_ID = re.compile(SLUG_PATTERN)


def is_safe_id(value: str) -> bool:
    """Whether ``value`` is a safe slug id (lowercase letters, digits, single hyphens)."""
    return bool(_SAFE_ID.match(value)) and len(value) <= 64
