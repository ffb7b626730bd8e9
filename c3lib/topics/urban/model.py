"""Low-emission urban development: an ASIF model of passenger transport and its scenarios.

* **Baseline** (:func:`asif`): activity (passenger-km per capita × population) ×
  structure (mode shares) × intensity (exhaust factor per vehicle-km ÷ occupancy, from
  :mod:`c3lib.topics.transport`) with fuel CO2 per MJ, or the grid factor for electric modes
  → PM2.5, NOx and CO2 by mode.
* **Scenarios** (:func:`trajectories`): business as usual grows passenger-km; the levers
  Avoid (less travel), Shift (from car, taxi and motorcycle to bus, BRT, rail, cycling
  and walking), Improve (electric cars, motorcycles and buses; Euro VI diesel buses) and
  a low-emission zone ramp in linearly from the base year to the target year.
* **Wedges** (:func:`wedges`): the reduction in each year attributed to each lever by
  Shapley values, so the attribution does not depend on the order the levers are added
  in and the wedges add up exactly to BAU − all-levers.

The low-emission-zone lever uses the measured (ex-post) Munich effect, a change in PM10
*concentration* at a traffic monitoring site, as a proxy for the change in PM2.5
*exhaust emissions* of the vehicle-km driven inside the zone (``urban_lez_effects.csv``).

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
from c3lib.topics.transport.model import MODES, POLLUTANTS, bus_vehicle, occupancy, vehicle_factors

__all__ = [
    "PRIVATE_MODES",
    "SHIFT_TARGETS",
    "ROAD_MODES",
    "LEVER_GROUPS",
    "DEFAULT_SHIFT_TO",
    "CityTransport",
    "Levers",
    "lez_effects",
    "lez_emission_effect",
    "lez_indicative_change",
    "mode_shares",
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
    """Measured low-emission-zone effects on concentrations (with what each applies to).

    Returns
    -------
    pandas.DataFrame
        Columns ``lez``, ``pollutant``, ``site``, ``period``, ``change`` [-],
        ``unit``, ``applies_to``, ``source``, ``quality``, ``note``.
    """
    return reference_table("urban_lez_effects")


def lez_emission_effect() -> dict[str, float]:
    """The in-zone emission reduction the LEZ lever uses, by pollutant.

    Returns
    -------
    dict
        ``PM2.5``: 0.13 (Munich annual PM10 at the traffic site, used as a proxy);
        ``NOx``: 0 (NO2 not consistently reduced in Berlin and Munich); ``CO2``: 0 (an
        LEZ restricts old vehicles, it does not cut fuel use). [-]
    """
    df = lez_effects()
    pm = df[(df["pollutant"] == "PM10") & (df["site"] == "traffic") & (df["period"] == "annual")]
    no2 = df[(df["pollutant"] == "NO2") & (df["site"] == "traffic")]
    return {
        "PM2.5": -float(pm["change"].iloc[0]),
        "NOx": -float(no2["change"].iloc[0]),
        "CO2": 0.0,
    }


def lez_indicative_change(pm25_annual_mean: float) -> pd.DataFrame:
    """What the Munich measurements would mean if transferred to a city's PM2.5 (indicative).

    Parameters
    ----------
    pm25_annual_mean : float
        The city's annual mean PM2.5 (NaN when unknown). [µg/m³]

    Returns
    -------
    pandas.DataFrame
        The PM10 rows of :func:`lez_effects` with ``indicative_change`` [µg/m³]: the
        measured relative change times the city's PM2.5. Two transfers are assumed
        (PM10 → PM2.5 and Munich → the city); a traffic-site change applies near busy
        roads inside the zone, an urban-background change to the wider city.
    """
    df = lez_effects()
    df = df[df["pollutant"] == "PM10"].copy()
    df["indicative_change"] = df["change"] * pm25_annual_mean
    return df[["lez", "site", "period", "change", "applies_to", "indicative_change", "source"]]


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
    """

    population: float
    pkm_per_capita: float
    shares: pd.Series
    growth_per_yr: float
    grid_ef: float
    bus_euro_stage: float = 4.0

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Passenger-km, vehicle-km (by mode) and emissions (mode × pollutant, t/yr) at ramp r."""
    pkm, vkm, em = _years(city, levers, [r], [growth_years], f)
    return pkm[0], vkm[0], em[0]


def _years(
    city: CityTransport,
    levers: Levers,
    rs: list[float],
    growth_years: list[float],
    f: _Factors,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_year` for several years at once: arrays year × mode (× pollutant).

    Each element is computed with the same operations, in the same order, as one year
    alone would be (the growth factor as a Python power), so the figures do not depend on
    how many years are asked for.
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
    diesel_bus = v[bus_vehicle(city.bus_euro_stage)] * (1.0 - u) + v["bus_euro6"] * u

    def mix(combustion: np.ndarray, electric: np.ndarray, e: np.ndarray) -> np.ndarray:
        return combustion * (1.0 - e) + electric * e

    car = mix(v["car_petrol"], v["car_electric"], levers.ev_car * r)
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
    :math:`\\epsilon_p` the LEZ effect of :func:`lez_emission_effect` (LEZ). Occupancy,
    grid factor and per-km factors stay at base-year values.
    """
    f = _factors(city)
    frames = []
    for year in years:
        df = _frame(*_year(city, levers, ramp(year, base_year, target_year), year - base_year, f))
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
    totals = [_totals(city, scenarios[n], rs, gys, f) for n in names]  # year × pollutant
    per = len(years) * len(POLLUTANTS)
    return pd.DataFrame(
        {
            "scenario": np.repeat(names, per).tolist(),
            "year": np.tile(np.repeat(years, len(POLLUTANTS)), len(names)),
            "pollutant": list(POLLUTANTS) * (len(years) * len(names)),
            "emissions": np.concatenate([t.ravel() for t in totals]) if names else [],
        }
    )


def _totals(city: CityTransport, levers: Levers, rs, gys, f: _Factors) -> np.ndarray:
    """Emissions summed over modes, year × pollutant [t/yr] (modes added in order)."""
    em = _years(city, levers, rs, gys, f)[2]
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
            total[frozenset(subset)] = _totals(city, levers.only(subset), rs, gys, f)
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
    df = _frame(*_year(city, levers, r, year - base_year, _factors(city)))
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


def city_transport(city: pd.DataFrame, population: float, grid_ef: float) -> CityTransport:
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

    Returns
    -------
    CityTransport
        Mode shares the city gives itself (``own``) are kept; defaulted shares are
        rescaled to fill the rest (:func:`mode_shares`).
    """
    v = city["value"].astype(float)
    own = city["own"].astype(bool)
    given = {k: float(v[f"share_{k}"]) for k in _SHARE_KEYS}
    fixed = [k for k in _SHARE_KEYS if own[f"share_{k}"]]
    shares = mode_shares(given, fixed, float(v["bus_share_of_public_transport"]))
    return CityTransport(
        population=population,
        pkm_per_capita=float(v["pkm_per_capita_yr"]),
        shares=shares,
        growth_per_yr=float(v["pkm_growth_per_yr"]),
        grid_ef=grid_ef,
        bus_euro_stage=float(v["diesel_bus_euro_stage"]),
    )
