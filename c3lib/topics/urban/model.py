"""Low-emission urban development: an ASIF model of passenger transport and its scenarios.

* **Baseline** (:func:`asif`): activity × structure (mode shares) × intensity (exhaust
  factor per vehicle-km ÷ occupancy, from :mod:`c3lib.topics.transport`) with fuel CO2 per
  MJ, or the grid factor for electric modes → PM2.5, NOx and CO2 by mode. The road
  activity is the emissions inventory's (:func:`c3lib.topics.transport.model.road_vehicle_km`,
  fleet × km per vehicle): car (with taxi), motorcycle and bus vehicle-km are those of the
  inventory, and the mode shares set rail, cycling and walking beside them
  (:func:`anchor_to_road`), so one city has one road baseline in both workbooks.
* **Scenarios** (:func:`trajectories`): business as usual grows passenger-km and renews
  the car and diesel-bus fleets (:class:`FleetTurnover`: the country's vehicle-standard
  schedule and a fleet renewal time); the levers Avoid (less travel), Shift (from car,
  taxi and motorcycle to bus, BRT, rail, cycling and walking), Improve (electric cars,
  motorcycles and buses; Euro VI diesel buses) and a low-emission zone ramp in linearly
  from the base year to the target year.
* **Wedges** (:func:`wedges`): the reduction in each year attributed to each lever by
  Shapley values, so the attribution does not depend on the order the levers are added
  in and the wedges add up exactly to BAU − all-levers.

The low-emission-zone lever applies evaluated *emission* effects (London's ULEZ: NOx and
CO2 of road transport in the central zone, PM2.5 of cars and vans in outer London,
against modelled no-scheme emissions) to the vehicle-km driven inside the zone
(``urban_lez_effects.csv``, ``measure = emissions``); measured *concentration* changes
(Munich) are context only.

Figures, reader tables, the explorer update and the run record's rows are in
:mod:`c3lib.topics.urban.views`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from c3lib.reference import reference_table
from c3lib.topics.transport.model import (
    MODES,
    POLLUTANTS,
    ROAD_FLEET,
    bus_vehicle,
    occupancy,
    road_vehicle_km,
    vehicle_factors,
)

__all__ = [
    "PRIVATE_MODES",
    "SHIFT_TARGETS",
    "ROAD_MODES",
    "LEVER_GROUPS",
    "DEFAULT_SHIFT_TO",
    "CityTransport",
    "FleetTurnover",
    "Levers",
    "STAGES",
    "ROAD_INPUTS",
    "vehicle_standards",
    "lez_effects",
    "lez_emission_effect",
    "lez_indicative_change",
    "mode_shares",
    "anchor_to_road",
    "stage_in_force",
    "car_nox_limits",
    "fleet_factors",
    "ramp",
    "asif",
    "emissions",
    "scenario_set",
    "trajectories",
    "wedges",
    "target_check",
    "indicators",
    "city_transport",
]

PRIVATE_MODES = ("car", "taxi", "motorcycle")
SHIFT_TARGETS = ("bus", "brt", "rail", "bicycle", "walk")
ROAD_MODES = ("car", "taxi", "motorcycle", "bus", "brt")
LEVER_GROUPS = {
    "avoid": ("avoid",),
    "shift": ("shift",),
    "improve": ("ev_car", "ev_motorcycle", "ev_bus", "bus_euro6"),
    "lez": ("lez_vkm_share",),
}
DEFAULT_SHIFT_TO = {"bus": 0.3, "brt": 0.2, "rail": 0.3, "bicycle": 0.1, "walk": 0.1}
_SHARE_KEYS = ("car", "taxi", "motorcycle", "public_transport", "bicycle", "walk")


# --- low-emission zone ------------------------------------------------------------------


def lez_effects() -> pd.DataFrame:
    """Evaluated low-emission-zone effects, each with what it measures and applies to.

    Returns
    -------
    pandas.DataFrame
        Columns ``lez``, ``measure`` (``emissions`` or ``concentration``), ``pollutant``,
        ``site``, ``period``, ``change`` [-], ``unit``, ``applies_to``, ``source``,
        ``quality``, ``note``.
    """
    return reference_table("urban_lez_effects")


def lez_emission_effect() -> dict[str, float]:
    """The in-zone emission reduction the LEZ lever uses, by pollutant.

    Returns
    -------
    dict
        Pollutant → reduction of the emissions of the vehicle-km driven inside the zone,
        from the ``emissions`` rows of :func:`lez_effects` (London ULEZ evaluations:
        ``NOx`` 0.31, ``CO2`` 0.04, ``PM2.5`` 0.20); 0 for a pollutant with no evaluated
        emission effect. [-]
    """
    df = lez_effects()
    df = df[df["measure"] == "emissions"]
    out = {}
    for p in POLLUTANTS:
        hit = df[df["pollutant"] == p]
        out[p] = -float(hit["change"].iloc[0]) if len(hit) else 0.0
    return out


def lez_indicative_change(pm25_annual_mean: float) -> pd.DataFrame:
    """What the Munich concentration changes would mean for a city's PM2.5 (indicative).

    Parameters
    ----------
    pm25_annual_mean : float
        The city's annual mean PM2.5 (NaN when unknown). [µg/m³]

    Returns
    -------
    pandas.DataFrame
        The PM10 concentration rows of :func:`lez_effects` with ``indicative_change``
        [µg/m³]: the measured relative change times the city's PM2.5. Two transfers are
        assumed (PM10 → PM2.5 and Munich → the city); a traffic-site change applies near
        busy roads inside the zone, an urban-background change to the wider city.
    """
    df = lez_effects()
    df = df[(df["pollutant"] == "PM10") & (df["measure"] == "concentration")].copy()
    df["indicative_change"] = df["change"] * pm25_annual_mean
    return df[["lez", "site", "period", "change", "applies_to", "indicative_change", "source"]]


# --- fleet turnover ---------------------------------------------------------------------

#: Euro stages a country's schedule names (cohorts sold before the first one: Euro 3)
STAGES = (4, 5, 6)
#: the emissions-inventory inputs the baseline's road activity is built on (fleets and
#: km per vehicle of cars, motorcycles and buses)
ROAD_INPUTS = tuple(f for c in ("car", "motorcycle", "bus") for f in ROAD_FLEET[c])


def vehicle_standards() -> pd.DataFrame:
    """The type-approval limits the car turnover scales by (``urban_vehicle_standards``).

    Returns
    -------
    pandas.DataFrame
        Columns ``vehicle``, ``stage``, ``pollutant``, ``limit`` [g/km], ``unit``,
        ``source``, ``quality``, ``note``.
    """
    return reference_table("urban_vehicle_standards")


@dataclass(frozen=True)
class FleetTurnover:
    """A country's vehicle-standard schedule and how fast its fleets are renewed.

    Attributes
    ----------
    car_stage_years : tuple
        Year from which new petrol cars meet Euro 4, 5 and 6 (None: not adopted). [year]
    bus_stage_years : tuple
        Year from which new diesel bus engines meet Euro IV, V and VI (None: not
        adopted). [year]
    renewal_yr : float
        Years for the in-use fleet to be replaced entirely (every vehicle retired at this
        age, equal sales each year; rounded to whole years). [yr]
    """

    car_stage_years: tuple = (None, None, None)
    bus_stage_years: tuple = (None, None, None)
    renewal_yr: float = 15.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.renewal_yr) and self.renewal_yr >= 1):
            raise ValueError(f"fleet renewal must be at least 1 year, got {self.renewal_yr!r}")


def stage_in_force(year: int, stage_years: tuple) -> int:
    """The Euro stage new vehicles sold in ``year`` meet under a schedule.

    Parameters
    ----------
    year : int
        Model year. [year]
    stage_years : tuple
        Years from which Euro 4, 5 and 6 apply (None: not adopted). [year]

    Returns
    -------
    int
        The highest stage in force (3 before the first stated stage). [-]
    """
    stage = 3
    for s, y in zip(STAGES, stage_years, strict=True):
        if y is not None and year >= y:
            stage = max(stage, s)
    return stage


@lru_cache(maxsize=1)
def car_nox_limits() -> dict[int, float]:
    """Type-approval NOx limit of new petrol cars by Euro stage (``urban_vehicle_standards``).

    Returns
    -------
    dict
        Stage (3–6) → limit. [g/km]
    """
    t = vehicle_standards()
    t = t[(t["vehicle"] == "car") & (t["pollutant"] == "NOx")]
    return {int(st): float(v) for st, v in zip(t["stage"], t["limit"], strict=True)}


def fleet_factors(
    turnover: FleetTurnover | None,
    bus_base_stage: float,
    base_year: int,
    years: Iterable[int],
    grid_ef: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""How the car and diesel-bus factors move as the fleets are renewed.

    Parameters
    ----------
    turnover : FleetTurnover or None
        The schedule and renewal time (None: fleets frozen at the base year).
    bus_base_stage : float
        Average Euro stage of the diesel buses in the base year. [-]
    base_year : int
        Base year. [year]
    years : iterable of int
        Calendar years asked about. [year]
    grid_ef : float, optional
        Grid factor (only to read the factor table). [kg CO2/kWh]

    Returns
    -------
    tuple of numpy.ndarray
        ``car``: year × pollutant multiplier of the base-year petrol-car factor [-];
        ``bus``: year × pollutant factor of the diesel city bus [g/km], both in
        :data:`c3lib.topics.transport.POLLUTANTS` order.

    Notes
    -----
    With :math:`L` the renewal time, every vehicle is retired at age :math:`L` and each
    year's sales are equal, so the fleet of year :math:`t` is the cohorts
    :math:`t-L+1 \ldots t`, each at the stage in force in its model year
    (:func:`stage_in_force`; cohorts before the first stated stage at Euro 3). A factor
    moves with the cohorts' mean: :math:`EF_t = EF_{t_0} \, \bar\ell_t / \bar\ell_{t_0}`,
    where :math:`EF_{t_0}` is the base-year factor (the Tier 1 petrol car; the bus at the
    city's ``diesel_bus_euro_stage``) and :math:`\bar\ell` the cohort mean of the car
    type-approval NOx limit (:func:`car_nox_limits`; car PM2.5 and CO2 stay: no petrol PM
    limit before Euro 5, fuel economy not modelled) or of the EMEP/EEA urban-bus factor of
    each stage (PM2.5, NOx and CO2). The schedule sets the trend, the base-year factor the
    level.
    """
    years = tuple(int(y) for y in years)
    car, bus = _fleet_factors(turnover, float(bus_base_stage), int(base_year), years, grid_ef)
    return car.copy(), bus.copy()


def _ratio(level: np.ndarray, base: np.ndarray) -> np.ndarray:
    """level ÷ base, elementwise; 1 where the base is 0 (nothing to scale)."""
    out = np.ones_like(level)
    np.divide(level, base, out=out, where=base > 0)
    return out


@lru_cache(maxsize=256)
def _fleet_factors(turnover, bus_base_stage, base_year, years, grid_ef):
    vkm = _reference_factors(grid_ef)[0]
    n = len(years)
    bus0 = vkm[bus_vehicle(bus_base_stage)]
    if turnover is None:
        return np.ones((n, len(POLLUTANTS))), np.tile(bus0, (n, 1))
    life = max(1, int(round(turnover.renewal_yr)))
    limits = car_nox_limits()
    nox = POLLUTANTS.index("NOx")

    def cohorts(t: int, stage_years: tuple, level) -> np.ndarray:
        # the fleet of year t: one cohort per model year t − L + 1 … t, equal weights
        ys = range(t - life + 1, t + 1)
        return sum(np.asarray(level(stage_in_force(y, stage_years)), float) for y in ys) / life

    def car_level(stage: int) -> np.ndarray:
        out = np.ones(len(POLLUTANTS))
        out[nox] = limits[stage]
        return out

    def bus_level(stage: int) -> np.ndarray:
        return vkm[bus_vehicle(stage)]

    car0 = cohorts(base_year, turnover.car_stage_years, car_level)
    b0 = cohorts(base_year, turnover.bus_stage_years, bus_level)
    car = np.empty((n, len(POLLUTANTS)))
    bus = np.empty((n, len(POLLUTANTS)))
    for i, t in enumerate(years):
        car[i] = _ratio(cohorts(t, turnover.car_stage_years, car_level), car0)
        bus[i] = bus0 * _ratio(cohorts(t, turnover.bus_stage_years, bus_level), b0)
    return car, bus


# --- city and levers --------------------------------------------------------------------


@dataclass(frozen=True)
class CityTransport:
    """One city's passenger transport in the base year.

    Attributes
    ----------
    population : float
        Residents. [persons]
    pkm_per_capita : float
        Passenger-km per resident per year. [pkm/person/yr]
    shares : pandas.Series
        Share of passenger-km by mode (index :data:`c3lib.topics.transport.MODES`, sums to 1). [-]
    growth_per_yr : float
        Business-as-usual growth of total passenger-km. [1/yr]
    grid_ef : float
        Grid CO2 factor for electric modes. [kg CO2/kWh]
    bus_euro_stage : float
        Average Euro stage of the diesel bus fleet (0–6). [-]
    turnover : FleetTurnover or None
        Vehicle-standard schedule and renewal time of the car and bus fleets (None:
        per-km factors frozen at the base year).
    """

    population: float
    pkm_per_capita: float
    shares: pd.Series
    growth_per_yr: float
    grid_ef: float
    bus_euro_stage: float = 4.0
    turnover: FleetTurnover | None = None

    @property
    def pkm(self) -> float:
        """Total passenger-km a year in the base year. [pkm/yr]"""
        return self.population * self.pkm_per_capita


@dataclass(frozen=True)
class Levers:
    """Scenario levers, each the value reached in the target year (linear ramp from 0).

    Attributes
    ----------
    avoid : float
        Share of business-as-usual passenger-km avoided (fewer, shorter trips). [-]
    shift : float
        Share of car, taxi and motorcycle passenger-km shifted to other modes. [-]
    shift_to : mapping
        How the shifted passenger-km split among bus, brt, rail, bicycle and walk
        (weights, normalised). [-]
    ev_car, ev_motorcycle, ev_bus : float
        Electric share of car and taxi, motorcycle, and bus and BRT vehicle-km. [-]
    bus_euro6 : float
        Share of the remaining diesel bus vehicle-km upgraded to Euro VI. [-]
    lez_vkm_share : float
        Share of road vehicle-km driven inside the low-emission zone. [-]
    """

    avoid: float = 0.0
    shift: float = 0.0
    shift_to: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SHIFT_TO))
    ev_car: float = 0.0
    ev_motorcycle: float = 0.0
    ev_bus: float = 0.0
    bus_euro6: float = 0.0
    lez_vkm_share: float = 0.0

    def __post_init__(self) -> None:
        for group in LEVER_GROUPS.values():
            for name in group:
                v = getattr(self, name)
                if not (math.isfinite(v) and 0.0 <= v <= 1.0):
                    raise ValueError(f"lever {name} must be within 0–1, got {v!r}")
        unknown = set(self.shift_to) - set(SHIFT_TARGETS)
        if unknown:
            raise ValueError(f"shift_to names unknown mode(s) {sorted(unknown)}")
        weights = np.array([self.shift_to.get(m, 0.0) for m in SHIFT_TARGETS], dtype=float)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError("shift_to weights must be non-negative with a positive sum")

    def only(self, groups: Iterable[str]) -> Levers:
        """A copy with every lever outside ``groups`` (names of :data:`LEVER_GROUPS`) at 0."""
        keep = set(groups)
        unknown = keep - set(LEVER_GROUPS)
        if unknown:
            raise KeyError(f"unknown lever group(s) {sorted(unknown)}")
        off = {n: 0.0 for g, names in LEVER_GROUPS.items() if g not in keep for n in names}
        return replace(self, **off)


def mode_shares(
    given: Mapping[str, float],
    fixed: Iterable[str] = (),
    bus_share_of_public_transport: float = 0.6,
) -> pd.Series:
    """Passenger-km shares by mode, completed so they add up to 1.

    Parameters
    ----------
    given : mapping
        Shares of ``car``, ``taxi``, ``motorcycle``, ``public_transport``, ``bicycle`` and
        ``walk``. [-]
    fixed : iterable of str
        The keys of ``given`` that are the city's own data; they are kept as they are and
        the others (defaults) are scaled to fill the rest.
    bus_share_of_public_transport : float, optional
        Bus part of public transport; the rest is rail, BRT starts at 0. [-]

    Returns
    -------
    pandas.Series
        Indexed by :data:`c3lib.topics.transport.MODES`. [-]

    Raises
    ------
    ValueError
        A share is missing or outside 0–1, the fixed shares exceed 1, or all shares are
        fixed and do not add up to 1 (±1 %).

    Notes
    -----
    With :math:`F` the fixed set, each other share becomes
    :math:`s_i \\cdot (1 - \\sum_F s) / \\sum_{\\bar F} s`.
    """
    s = pd.Series({k: float(given[k]) for k in _SHARE_KEYS})
    if ((s < 0) | (s > 1) | s.isna()).any():
        raise ValueError(f"mode shares must be within 0–1, got {s.to_dict()}")
    fixed = [k for k in _SHARE_KEYS if k in set(fixed)]
    free = [k for k in _SHARE_KEYS if k not in fixed]
    room = 1.0 - s[fixed].sum()
    if room < -1e-9:
        raise ValueError(f"the city's own mode shares add up to {1 - room:.3f} > 1")
    if free and s[free].sum() > 0:
        s[free] = s[free] * room / s[free].sum()
    elif abs(room) > 0.01:
        raise ValueError(f"mode shares add up to {1 - room:.3f}, not 1")
    s = s / s.sum()
    pt = s.pop("public_transport")
    s["bus"] = pt * bus_share_of_public_transport
    s["rail"] = pt * (1.0 - bus_share_of_public_transport)
    s["brt"] = 0.0
    return s.reindex(list(MODES)).rename("share").rename_axis("mode")


def anchor_to_road(
    road_vkm: Mapping[str, float], shares: pd.Series, occ: pd.Series | None = None
) -> tuple[float, pd.Series]:
    """Base-year passenger-km and mode shares built on the inventory's road vehicle-km.

    Parameters
    ----------
    road_vkm : mapping
        ``car`` (taxis included), ``motorcycle`` and ``bus`` vehicle-km, as
        :func:`c3lib.topics.transport.model.road_vehicle_km` gives them. [km/yr]
    shares : pandas.Series
        Completed passenger-km shares by mode (:func:`mode_shares`). [-]
    occ : pandas.Series, optional
        Occupancy by mode (default :func:`c3lib.topics.transport.model.occupancy`).
        [persons/vehicle]

    Returns
    -------
    tuple
        Total passenger-km [pkm/yr] and the shares by mode it implies [-] (index
        :data:`c3lib.topics.transport.MODES`).

    Raises
    ------
    ValueError
        A vehicle-km is missing or negative, or the shares leave no road mode.

    Notes
    -----
    Road passenger-km are vehicle-km × occupancy: car-km split between car and taxi in
    the ratio of their shares' vehicle-km,
    :math:`\\tau = (S_{taxi}/o_{taxi}) / (S_{car}/o_{car} + S_{taxi}/o_{taxi})`;
    motorcycle and bus passenger-km from their own vehicle-km (BRT 0 in the base year).
    Rail, cycling and walking keep their shares relative to the road modes:
    :math:`P_m = P_{road} \\, S_m / \\sum_{road} S`. Car-km, motorcycle-km and bus-km
    are then exactly the inventory's.
    """
    occ = occupancy() if occ is None else occ
    vkm = {k: float(road_vkm[k]) for k in ("car", "motorcycle", "bus")}
    if any(not math.isfinite(v) or v < 0 for v in vkm.values()):
        raise ValueError(f"road vehicle-km must be finite and non-negative, got {vkm}")
    s = shares.reindex(list(MODES)).astype(float)
    car_like = s["car"] / occ["car"] + s["taxi"] / occ["taxi"]
    tau = s["taxi"] / occ["taxi"] / car_like if car_like > 0 else 0.0
    pkm = pd.Series(0.0, index=list(MODES))
    pkm["car"] = vkm["car"] * (1.0 - tau) * occ["car"]
    pkm["taxi"] = vkm["car"] * tau * occ["taxi"]
    pkm["motorcycle"] = vkm["motorcycle"] * occ["motorcycle"]
    pkm["bus"] = vkm["bus"] * occ["bus"]
    road_share = float(s[["car", "taxi", "motorcycle", "bus", "brt"]].sum())
    if road_share <= 0:
        raise ValueError("the mode shares leave no road mode to scale rail, cycling and walking")
    road = float(pkm.sum())
    for m in ("rail", "bicycle", "walk"):
        pkm[m] = road * s[m] / road_share
    total = float(pkm.sum())
    if total <= 0:
        raise ValueError("the road vehicle-km give no passenger-km")
    return total, (pkm / total).rename("share").rename_axis("mode")


# --- the model --------------------------------------------------------------------------


def ramp(year: float, base_year: int, target_year: int) -> float:
    """How far a lever has ramped in: 0 in the base year, 1 from the target year on.

    Parameters
    ----------
    year : float
        Year asked about. [year]
    base_year, target_year : int
        Year the ramp starts and year it is complete. [year]

    Returns
    -------
    float
        Share of the lever in place, linear between the two years. [-]
    """
    if target_year <= base_year:
        raise ValueError(f"target year {target_year} must be after base year {base_year}")
    return float(np.clip((year - base_year) / (target_year - base_year), 0.0, 1.0))


_M = {m: i for i, m in enumerate(MODES)}
_PRIVATE = [_M[m] for m in PRIVATE_MODES]
_TARGETS = [_M[m] for m in SHIFT_TARGETS]
_ROAD = [_M[m] for m in ROAD_MODES]


@dataclass(frozen=True)
class _Factors:
    vkm: dict[str, np.ndarray]  # g/vkm by vehicle, in POLLUTANTS order
    occ: np.ndarray  # persons/vehicle, in MODES order
    lez: np.ndarray  # in-zone emission reduction, in POLLUTANTS order
    shares: np.ndarray  # the city's base-year shares, in MODES order


def _factors(city: CityTransport) -> _Factors:
    vkm, occ, lez = _reference_factors(city.grid_ef)
    shares = city.shares.reindex(list(MODES)).to_numpy(dtype=float)
    return _Factors(vkm, occ, lez, shares)


@lru_cache(maxsize=64)
def _reference_factors(grid_ef: float) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    # read once per grid factor: a scenario run asks for them hundreds of times
    v = vehicle_factors(grid_ef)[list(POLLUTANTS)].astype(float)
    lez = lez_emission_effect()
    return (
        {name: row.to_numpy() for name, row in v.iterrows()},
        occupancy().reindex(list(MODES)).to_numpy(dtype=float),
        np.array([lez[p] for p in POLLUTANTS]),
    )


def _year(
    city: CityTransport,
    levers: Levers,
    r: float,
    growth_years: float,
    f: _Factors,
    base_year: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passenger-km, vehicle-km (by mode) and emissions (mode × pollutant, t/yr) at ramp r."""
    pkm, vkm, em = _years(city, levers, [r], [growth_years], f, base_year)
    return pkm[0], vkm[0], em[0]


def _years(
    city: CityTransport,
    levers: Levers,
    rs: list[float],
    growth_years: list[float],
    f: _Factors,
    base_year: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_year` for several years at once: arrays year × mode (× pollutant).

    Each element is computed with the same operations, in the same order, as one year
    alone would be (the growth factor as a Python power), so the figures do not depend on
    how many years are asked for. ``base_year`` places the years in the calendar for the
    fleet turnover.
    """
    r = np.array(rs, dtype=float)[:, None]  # year × 1
    growth = np.array([(1.0 + city.growth_per_yr) ** g for g in growth_years])[:, None]
    pkm_total = city.pkm * growth * (1.0 - levers.avoid * r)
    shares = np.repeat(f.shares[None, :], len(rs), axis=0)
    moved = f.shares[_PRIVATE].sum() * levers.shift * r
    shares[:, _PRIVATE] *= 1.0 - levers.shift * r
    w = np.array([float(levers.shift_to.get(m, 0.0)) for m in SHIFT_TARGETS])
    shares[:, _TARGETS] += moved * w / w.sum()
    pkm = pkm_total * shares

    v = f.vkm
    r3 = r[:, :, None]  # year × 1 × 1
    u = levers.bus_euro6 * r
    calendar = [base_year + int(round(g)) for g in growth_years]
    car_renewed, bus_renewed = _fleet_factors(
        city.turnover, float(city.bus_euro_stage), int(base_year), tuple(calendar), city.grid_ef
    )
    diesel_bus = bus_renewed * (1.0 - u) + v["bus_euro6"] * u

    def mix(combustion: np.ndarray, electric: np.ndarray, e: np.ndarray) -> np.ndarray:
        return combustion * (1.0 - e) + electric * e

    car = mix(v["car_petrol"] * car_renewed, v["car_electric"], levers.ev_car * r)
    bus = mix(diesel_bus, v["bus_electric"], levers.ev_bus * r)
    motorcycle = mix(v["motorcycle_petrol"], v["motorcycle_electric"], levers.ev_motorcycle * r)
    fixed = np.broadcast_to(v["metro_train"], car.shape)
    ef = np.stack(
        [
            car,
            car,
            motorcycle,
            bus,
            bus,
            fixed,
            np.broadcast_to(v["bicycle"], car.shape),
            np.broadcast_to(v["on_foot"], car.shape),
        ],
        axis=1,
    )  # year × mode × pollutant
    ef[:, _ROAD] *= 1.0 - levers.lez_vkm_share * r3 * f.lez
    vkm = pkm / f.occ
    return pkm, vkm, vkm[:, :, None] * ef / 1e6


def _ramps(base_year: int, target_year: int) -> tuple[list[int], list[float], list[int]]:
    years = list(range(base_year, target_year + 1))
    return years, [ramp(y, base_year, target_year) for y in years], [y - base_year for y in years]


def _frame(pkm: np.ndarray, vkm: np.ndarray, em: np.ndarray) -> pd.DataFrame:
    out = pd.DataFrame({"pkm": pkm, "vehicle_km": vkm}, index=pd.Index(MODES, name="mode"))
    for j, p in enumerate(POLLUTANTS):
        out[p] = em[:, j]
    return out


def asif(city: CityTransport) -> pd.DataFrame:
    """Base-year passenger-km, vehicle-km and exhaust emissions by mode.

    Parameters
    ----------
    city : CityTransport
        The city.

    Returns
    -------
    pandas.DataFrame
        Indexed by mode; columns ``share`` [-], ``pkm`` [pkm/yr], ``vehicle_km`` [km/yr],
        ``PM2.5``, ``NOx``, ``CO2`` [t/yr].

    Notes
    -----
    .. math:: E_p = A \\sum_m S_m \\, \\frac{EF_{m,p}}{o_m}

    with :math:`A` = population × passenger-km per capita, :math:`S_m` the share of
    passenger-km, :math:`EF_{m,p}` the exhaust factor per vehicle-km (for CO2 of fuelled
    vehicles: energy per km × CO2 per MJ; for electric ones: kWh per km × grid factor)
    and :math:`o_m` the occupancy. Divide by :math:`10^6` for t/yr.

    References
    ----------
    .. [1] Schipper L., Marie-Lilliu C., Gorham R. (2000) Flexing the Link between
       Transport and Greenhouse Gas Emissions. IEA, Paris.
    .. [2] Schipper L., Fabian H., Leather J. (2009) Transport and Carbon Dioxide
       Emissions: Forecasts, Options Analysis, and Evaluation. ADB Sustainable
       Development Working Paper No. 9.
    """
    out = _frame(*_year(city, Levers(), 0.0, 0.0, _factors(city)))
    out.insert(0, "share", city.shares.reindex(out.index))
    return out


def emissions(
    city: CityTransport, levers: Levers, years: Iterable[int], base_year: int, target_year: int
) -> pd.DataFrame:
    """Passenger-km, vehicle-km and emissions by mode for each year of a scenario.

    Parameters
    ----------
    city : CityTransport
        The city in the base year.
    levers : Levers
        Levers reached in the target year (linear ramp from the base year).
    years : iterable of int
        Years to compute.
    base_year, target_year : int
        First year and target year of the scenario.

    Returns
    -------
    pandas.DataFrame
        Long form: ``year``, ``mode``, ``pkm`` [pkm/yr], ``vehicle_km`` [km/yr], ``PM2.5``,
        ``NOx``, ``CO2`` [t/yr].

    Notes
    -----
    In year :math:`t`, with :math:`r = \\mathrm{clip}((t - t_0)/(t_T - t_0), 0, 1)`:
    :math:`A_t = A_0 (1 + g)^{t - t_0} (1 - a \\, r)` (Avoid); each private-mode share is
    multiplied by :math:`1 - h r` and the freed share goes to the shift targets by weight
    (Shift); the electric share of each mode is its lever times :math:`r` and diesel
    buses move to Euro VI likewise (Improve); road-mode factors are multiplied by
    :math:`1 - z \\, r \\, \\epsilon_p`, with :math:`z` the in-zone vehicle-km share and
    :math:`\\epsilon_p` the LEZ effect of :func:`lez_emission_effect` (LEZ). Car and
    diesel-bus factors follow the fleet turnover of :func:`fleet_factors` in every
    scenario, BAU included; occupancy and the grid factor stay at base-year values.
    """
    f = _factors(city)
    frames = []
    for year in years:
        r = ramp(year, base_year, target_year)
        df = _frame(*_year(city, levers, r, year - base_year, f, base_year))
        frames.append(df.reset_index().assign(year=year))
    out = pd.concat(frames, ignore_index=True)
    return out[["year", "mode", "pkm", "vehicle_km", *POLLUTANTS]]


def scenario_set(levers: Levers) -> dict[str, Levers]:
    """Business as usual, each lever group alone, and all together.

    Parameters
    ----------
    levers : Levers
        All levers as reached in the target year. [-]

    Returns
    -------
    dict
        ``BAU``, ``Avoid``, ``Shift``, ``Improve``, ``LEZ`` and ``Combined``.
    """
    return {
        "BAU": levers.only([]),
        "Avoid": levers.only(["avoid"]),
        "Shift": levers.only(["shift"]),
        "Improve": levers.only(["improve"]),
        "LEZ": levers.only(["lez"]),
        "Combined": levers,
    }


def trajectories(
    city: CityTransport, scenarios: Mapping[str, Levers], base_year: int, target_year: int
) -> pd.DataFrame:
    """Total emissions a year, from the base year to the target year, for each scenario.

    Parameters
    ----------
    city : CityTransport
        The city in the base year.
    scenarios : mapping of str to Levers
        Scenario name → levers reached in the target year (e.g. :func:`scenario_set`).
    base_year, target_year : int
        First year and target year. [year]

    Returns
    -------
    pandas.DataFrame
        Long form: ``scenario``, ``year``, ``pollutant``, ``emissions`` [t/yr].
    """
    f = _factors(city)
    years, rs, gys = _ramps(base_year, target_year)
    names = list(scenarios)
    totals = [_totals(city, scenarios[n], rs, gys, f, base_year) for n in names]  # year × pol.
    per = len(years) * len(POLLUTANTS)
    return pd.DataFrame(
        {
            "scenario": np.repeat(names, per).tolist(),
            "year": np.tile(np.repeat(years, len(POLLUTANTS)), len(names)),
            "pollutant": list(POLLUTANTS) * (len(years) * len(names)),
            "emissions": np.concatenate([t.ravel() for t in totals]) if names else [],
        }
    )


def _totals(city: CityTransport, levers: Levers, rs, gys, f: _Factors, base_year) -> np.ndarray:
    """Emissions summed over modes, year × pollutant [t/yr] (modes added in order)."""
    em = _years(city, levers, rs, gys, f, base_year)[2]
    out = em[:, 0].copy()
    for m in range(1, em.shape[1]):
        out += em[:, m]
    return out


def wedges(city: CityTransport, levers: Levers, base_year: int, target_year: int) -> pd.DataFrame:
    """The reduction from business as usual in each year attributed to each lever group.

    Parameters
    ----------
    city : CityTransport
        The city in the base year.
    levers : Levers
        All levers together.
    base_year, target_year : int
        First year and target year.

    Returns
    -------
    pandas.DataFrame
        Long form: ``year``, ``pollutant``, ``lever`` (``avoid``, ``shift``, ``improve``,
        ``lez``), ``reduction`` [t/yr]. For each year and pollutant the reductions add up
        to BAU − Combined.

    Notes
    -----
    Shapley values over the four lever groups :math:`N`: with :math:`v(S)` the
    reduction when only the groups in :math:`S` are active,

    .. math:: \\phi_i = \\sum_{S \\subseteq N \\setminus \\{i\\}}
              \\frac{|S|! \\, (|N| - |S| - 1)!}{|N|!} \\, [v(S \\cup \\{i\\}) - v(S)]

    i.e. each lever's marginal effect averaged over every order of adding the levers.
    Levers interact (electric cars cut less once Shift has moved people off cars); the
    Shapley value splits each interaction equally, so no order is privileged.

    References
    ----------
    .. [1] Shapley L.S. (1953) A value for n-person games. In: Contributions to the
       Theory of Games II, Annals of Mathematics Studies 28, 307–317.
    """
    groups = list(LEVER_GROUPS)
    n = len(groups)
    years, rs, gys = _ramps(base_year, target_year)
    total: dict[frozenset, np.ndarray] = {}
    f = _factors(city)
    for k in range(n + 1):
        for subset in combinations(groups, k):
            total[frozenset(subset)] = _totals(city, levers.only(subset), rs, gys, f, base_year)
    bau = total[frozenset()]
    phis = []
    for g in groups:
        phi = np.zeros_like(bau)
        others = [x for x in groups if x != g]
        for k in range(n):
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for subset in combinations(others, k):
                s = frozenset(subset)
                phi += weight * (total[s] - total[s | {g}])
        phis.append(phi.ravel())
    per = len(years) * len(POLLUTANTS)
    return pd.DataFrame(
        {
            "year": np.tile(np.repeat(years, len(POLLUTANTS)), n),
            "pollutant": list(POLLUTANTS) * (len(years) * n),
            "lever": np.repeat(groups, per).tolist(),
            "reduction": np.concatenate(phis),
        }
    )


def target_check(
    trajectory: pd.DataFrame, target_year: int, target_reduction: float
) -> pd.DataFrame:
    """Whether the combined scenario meets a reduction target against BAU in the target year.

    Parameters
    ----------
    trajectory : pandas.DataFrame
        From :func:`trajectories` (must hold ``BAU`` and ``Combined``).
    target_year : int
        Year the target applies to.
    target_reduction : float
        Reduction sought against BAU. [-]

    Returns
    -------
    pandas.DataFrame
        Indexed by pollutant; columns ``BAU``, ``Combined``, ``target`` [t/yr],
        ``reduction`` [-] and ``met`` (bool).
    """
    t = trajectory[trajectory["year"] == target_year]
    # as a pivot table would (the mean of each scenario's rows), without its overhead
    wide = {
        name: t[t["scenario"] == name].groupby("pollutant")["emissions"].mean()
        for name in ("BAU", "Combined")
    }
    if any(w.empty for w in wide.values()):
        raise KeyError(f"trajectory for {target_year} needs the BAU and Combined scenarios")
    out = pd.DataFrame(wide).rename_axis(index="pollutant", columns="scenario")
    out["target"] = out["BAU"] * (1.0 - target_reduction)
    out["reduction"] = 1.0 - out["Combined"] / out["BAU"]
    out["met"] = out["Combined"] <= out["target"] * (1 + 1e-9)
    return out.reindex([p for p in POLLUTANTS if p in out.index])


def indicators(city: CityTransport, levers: Levers, year: int, base_year: int, target_year: int):
    """Monitoring indicators of a scenario in one year (for the monitor-and-report step).

    Parameters
    ----------
    city : CityTransport
        The city in the base year.
    levers : Levers
        Levers reached in the target year.
    year : int
        Year of the indicators. [year]
    base_year, target_year : int
        First year and target year of the scenario. [year]

    Returns
    -------
    pandas.Series
        ``pkm_per_capita`` [pkm/person/yr at base-year population], ``public_transport_share``
        (bus, BRT, rail) [-], ``active_share`` (bicycle, walk) [-], ``private_share`` [-],
        ``ev_share_car``, ``ev_share_motorcycle``, ``ev_share_bus`` [-].
    """
    r = ramp(year, base_year, target_year)
    df = _frame(*_year(city, levers, r, year - base_year, _factors(city), base_year))
    share = df["pkm"] / df["pkm"].sum()
    return pd.Series(
        {
            "pkm_per_capita": df["pkm"].sum() / city.population,
            "public_transport_share": share[["bus", "brt", "rail"]].sum(),
            "active_share": share[["bicycle", "walk"]].sum(),
            "private_share": share[list(PRIVATE_MODES)].sum(),
            "ev_share_car": levers.ev_car * r,
            "ev_share_motorcycle": levers.ev_motorcycle * r,
            "ev_share_bus": levers.ev_bus * r,
        }
    )


# --- one city, end to end ---------------------------------------------------------------


_TURNOVER_FIELDS = {
    "car": ("car_euro4_year", "car_euro5_year", "car_euro6_year"),
    "bus": ("bus_euro4_year", "bus_euro5_year", "bus_euro6_year"),
}


def _year_or_none(v) -> int | None:
    v = float(v)
    return int(v) if math.isfinite(v) else None


def city_transport(
    city: pd.DataFrame,
    population: float,
    grid_ef: float,
    road: Mapping[str, float] | pd.DataFrame | None = None,
) -> CityTransport:
    """A city's base-year transport from its low-emission-development inputs.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's inputs indexed by field (columns ``value`` and ``own``), e.g. the rows
        of :func:`c3lib.kit.casestudy.inputs` for one role.
    population : float
        Residents. [persons]
    grid_ef : float
        Grid CO2 factor. [kg CO2/kWh]
    road : mapping or pandas.DataFrame, optional
        The city's emissions-inventory inputs (fleets and km per vehicle, by field; a
        DataFrame's ``value`` column). When they give car, motorcycle and bus vehicle-km,
        the baseline is built on them (:func:`anchor_to_road`) and passenger-km per
        resident is derived; otherwise it is ``pkm_per_capita_yr`` × population.

    Returns
    -------
    CityTransport
        Mode shares the city gives itself (``own``) are kept; defaulted shares are
        rescaled to fill the rest (:func:`mode_shares`). The fleet turnover comes from
        the ``car_euro*_year``, ``bus_euro*_year`` and ``fleet_renewal_yr`` inputs where
        the section has them.
    """
    v = city["value"].astype(float)
    own = city["own"].astype(bool)
    given = {k: float(v[f"share_{k}"]) for k in _SHARE_KEYS}
    fixed = [k for k in _SHARE_KEYS if own[f"share_{k}"]]
    shares = mode_shares(given, fixed, float(v["bus_share_of_public_transport"]))
    pkm_per_capita = float(v["pkm_per_capita_yr"])
    if road is not None:
        values = road["value"] if isinstance(road, pd.DataFrame) else road
        vkm = road_vehicle_km(values)
        if all(math.isfinite(vkm[k]) for k in ("car", "motorcycle", "bus")):
            total, shares = anchor_to_road(vkm, shares)
            pkm_per_capita = total / population
    turnover = None
    if "fleet_renewal_yr" in v.index and math.isfinite(v["fleet_renewal_yr"]):
        turnover = FleetTurnover(
            car_stage_years=tuple(_year_or_none(v[f]) for f in _TURNOVER_FIELDS["car"]),
            bus_stage_years=tuple(_year_or_none(v[f]) for f in _TURNOVER_FIELDS["bus"]),
            renewal_yr=float(v["fleet_renewal_yr"]),
        )
    return CityTransport(
        population=population,
        pkm_per_capita=pkm_per_capita,
        shares=shares,
        growth_per_yr=float(v["pkm_growth_per_yr"]),
        grid_ef=grid_ef,
        bus_euro_stage=float(v["diesel_bus_euro_stage"]),
        turnover=turnover,
    )
