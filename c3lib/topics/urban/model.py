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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import combinations

import numpy as np
import pandas as pd

from c3lib.reference import reference_table
from c3lib.topics.transport import MODES, POLLUTANTS, bus_vehicle, occupancy, vehicle_factors

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
    "plot_baseline",
    "plot_trajectories",
    "plot_wedges",
    "city_transport",
    "results_table",
    "metrics",
    "lever_table",
    "what_if",
    "assumption_rows",
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
    """How far a lever has ramped in: 0 in the base year, 1 from the target year on. [-]"""
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


def _factors(city: CityTransport) -> _Factors:
    v = vehicle_factors(city.grid_ef)[list(POLLUTANTS)].astype(float)
    lez = lez_emission_effect()
    return _Factors(
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
    pkm_total = city.pkm * (1.0 + city.growth_per_yr) ** growth_years * (1.0 - levers.avoid * r)
    shares = city.shares.reindex(list(MODES)).to_numpy(dtype=float).copy()
    moved = shares[_PRIVATE].sum() * levers.shift * r
    shares[_PRIVATE] *= 1.0 - levers.shift * r
    w = np.array([float(levers.shift_to.get(m, 0.0)) for m in SHIFT_TARGETS])
    shares[_TARGETS] += moved * w / w.sum()
    pkm = pkm_total * shares

    v = f.vkm
    u = levers.bus_euro6 * r
    diesel_bus = v[bus_vehicle(city.bus_euro_stage)] * (1.0 - u) + v["bus_euro6"] * u

    def mix(combustion: np.ndarray, electric: np.ndarray, e: float) -> np.ndarray:
        return combustion * (1.0 - e) + electric * e

    car = mix(v["car_petrol"], v["car_electric"], levers.ev_car * r)
    bus = mix(diesel_bus, v["bus_electric"], levers.ev_bus * r)
    ef = np.vstack(
        [
            car,
            car,
            mix(v["motorcycle_petrol"], v["motorcycle_electric"], levers.ev_motorcycle * r),
            bus,
            bus,
            v["metro_train"],
            v["bicycle"],
            v["on_foot"],
        ]
    )
    ef[_ROAD] *= 1.0 - levers.lez_vkm_share * r * f.lez
    vkm = pkm / f.occ
    return pkm, vkm, vkm[:, None] * ef / 1e6


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

    Returns
    -------
    pandas.DataFrame
        Long form: ``scenario``, ``year``, ``pollutant``, ``emissions`` [t/yr].
    """
    f = _factors(city)
    rows = []
    for name, lev in scenarios.items():
        for y in range(base_year, target_year + 1):
            em = _year(city, lev, ramp(y, base_year, target_year), y - base_year, f)[2].sum(0)
            rows += [
                {"scenario": name, "year": y, "pollutant": p, "emissions": em[j]}
                for j, p in enumerate(POLLUTANTS)
            ]
    return pd.DataFrame(rows)


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
    years = list(range(base_year, target_year + 1))
    total: dict[frozenset, np.ndarray] = {}
    f = _factors(city)
    for k in range(n + 1):
        for subset in combinations(groups, k):
            lev = levers.only(subset)
            total[frozenset(subset)] = np.array(
                [
                    _year(city, lev, ramp(y, base_year, target_year), y - base_year, f)[2].sum(0)
                    for y in years
                ]
            )
    bau = total[frozenset()]
    rows = []
    for g in groups:
        phi = np.zeros_like(bau)
        others = [x for x in groups if x != g]
        for k in range(n):
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for subset in combinations(others, k):
                s = frozenset(subset)
                phi += weight * (total[s] - total[s | {g}])
        for i, y in enumerate(years):
            for j, p in enumerate(POLLUTANTS):
                rows.append({"year": y, "pollutant": p, "lever": g, "reduction": phi[i, j]})
    return pd.DataFrame(rows)


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
    wide = t.pivot_table(index="pollutant", columns="scenario", values="emissions")
    out = wide[["BAU", "Combined"]].copy()
    out["target"] = out["BAU"] * (1.0 - target_reduction)
    out["reduction"] = 1.0 - out["Combined"] / out["BAU"]
    out["met"] = out["Combined"] <= out["target"] * (1 + 1e-9)
    return out.reindex([p for p in POLLUTANTS if p in out.index])


def indicators(city: CityTransport, levers: Levers, year: int, base_year: int, target_year: int):
    """Monitoring indicators of a scenario in one year (for the monitor-and-report step).

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


# --- charts -----------------------------------------------------------------------------

_MODE_COLORS = {
    "car": "#d6452b",
    "taxi": "#f2a541",
    "motorcycle": "#8e6bbf",
    "bus": "#4c9be8",
    "brt": "#2a6fb0",
    "rail": "#5bb5a2",
    "bicycle": "#7fbf7b",
    "walk": "#b8d98a",
}
_LEVER_COLORS = {"avoid": "#8e6bbf", "shift": "#4c9be8", "improve": "#7fbf7b", "lez": "#f2a541"}


def plot_baseline(baselines: Mapping[str, pd.DataFrame]):
    """Base-year emissions by mode, one panel per pollutant, one bar per city.

    Parameters
    ----------
    baselines : mapping of str to pandas.DataFrame
        City label → :func:`asif`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(POLLUTANTS), figsize=(11, 3.8))
    labels = list(baselines)
    x = np.arange(len(labels))
    for ax, p in zip(axes, POLLUTANTS, strict=True):
        bottom = np.zeros(len(labels))
        for m in MODES:
            vals = np.array([baselines[c].loc[m, p] for c in labels])
            if not vals.any():
                continue
            ax.bar(x, vals, bottom=bottom, color=_MODE_COLORS[m], label=m, width=0.6)
            bottom += vals
        ax.set_xticks(x, labels)
        ax.set_title(f"{p} (t/yr)", fontsize=10)
    handles, names = [], []
    for ax in axes:
        for h, name in zip(*ax.get_legend_handles_labels(), strict=True):
            if name not in names:
                handles.append(h)
                names.append(name)
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_trajectories(trajectories: Mapping[str, pd.DataFrame]):
    """Emission trajectories by scenario: one row per city, one column per pollutant.

    Parameters
    ----------
    trajectories : mapping of str to pandas.DataFrame
        City label → :func:`trajectories`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    n = len(trajectories)
    fig, axes = plt.subplots(n, len(POLLUTANTS), figsize=(11, 3.2 * n), squeeze=False)
    styles = {"BAU": ("k", "--"), "Combined": ("#d6452b", "-")}
    for row, (label, traj) in zip(axes, trajectories.items(), strict=True):
        for ax, p in zip(row, POLLUTANTS, strict=True):
            sub = traj[traj["pollutant"] == p]
            for name, df in sub.groupby("scenario", sort=False):
                color, ls = styles.get(name, (None, ":"))
                ax.plot(df["year"], df["emissions"], ls, color=color, label=name, lw=1.5)
            ax.set_title(f"{label}: {p} (t/yr)", fontsize=9)
            ax.set_ylim(bottom=0)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_wedges(cases: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]], pollutant: str = "CO2"):
    """Wedge chart: BAU down to Combined, the gap split by lever (Shapley), one panel per city.

    Parameters
    ----------
    cases : mapping of str to (pandas.DataFrame, pandas.DataFrame)
        City label → (:func:`trajectories`, :func:`wedges`).
    pollutant : str, optional
        ``PM2.5``, ``NOx`` or ``CO2``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cases), figsize=(5.2 * len(cases), 3.8), squeeze=False)
    for ax, (label, (traj, wed)) in zip(axes[0], cases.items(), strict=True):
        _draw_wedges(ax, traj, wed, pollutant, f"{label}: {pollutant} (t/yr)")
    axes[0][-1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


def _draw_wedges(ax, traj: pd.DataFrame, wed: pd.DataFrame, pollutant: str, title: str) -> None:
    t = traj[traj["pollutant"] == pollutant].pivot_table(
        index="year", columns="scenario", values="emissions"
    )
    w = wed[wed["pollutant"] == pollutant].pivot_table(
        index="year", columns="lever", values="reduction"
    )
    years = t.index.to_numpy()
    top = t["BAU"].to_numpy()
    for lever in LEVER_GROUPS:
        band = w[lever].reindex(years).to_numpy()
        ax.fill_between(years, top - band, top, color=_LEVER_COLORS[lever], label=lever, lw=0)
        top = top - band
    ax.plot(years, t["BAU"], "k--", lw=1.2, label="BAU")
    ax.plot(years, t["Combined"], color="k", lw=1.5, label="Combined")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)


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


def results_table(
    baselines: Mapping[str, pd.DataFrame],
    checks: Mapping[str, pd.DataFrame],
    wedge_tables: Mapping[str, pd.DataFrame],
    target_year: int,
) -> pd.DataFrame:
    """The headline results side by side (one column per city).

    Parameters
    ----------
    baselines : mapping
        Label → :func:`asif`.
    checks : mapping
        Label → :func:`target_check`.
    wedge_tables : mapping
        Label → :func:`wedges`.
    target_year : int
        Year the wedges are read in.

    Returns
    -------
    pandas.DataFrame
        Rows (pollutant, quantity) with a ``unit`` column: base-year emissions, BAU and
        Combined in the target year, the reduction and each lever's wedge. [t/yr]
    """
    cols = {}
    for label, base in baselines.items():
        col = {}
        chk = checks[label]
        w = wedge_tables[label]
        w = w[w["year"] == target_year].pivot_table(
            index="pollutant", columns="lever", values="reduction"
        )
        for p in POLLUTANTS:
            col[(p, "base year", "t/yr")] = base[p].sum()
            col[(p, f"BAU {target_year}", "t/yr")] = chk.loc[p, "BAU"]
            col[(p, f"Combined {target_year}", "t/yr")] = chk.loc[p, "Combined"]
            col[(p, "reduction vs BAU", "%")] = 100.0 * chk.loc[p, "reduction"]
            for lever in LEVER_GROUPS:
                col[(p, f"wedge: {lever}", "t/yr")] = w.loc[p, lever]
        cols[label] = col
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["pollutant", "quantity", "unit"])
    return out.reset_index(level="unit")


def metrics(
    baselines: Mapping[str, pd.DataFrame],
    checks: Mapping[str, pd.DataFrame],
    wedge_tables: Mapping[str, pd.DataFrame],
    target_year: int,
) -> pd.DataFrame:
    """Metrics for :func:`c3lib.kit.casestudy.publish`, keyed by city id.

    Returns
    -------
    pandas.DataFrame
        Columns ``city``, ``metric``, ``value``, ``unit``, ``pollutant``, ``scope``:
        ``baseline_emissions`` (scope ``passenger-transport``), ``target_year_emissions``
        (scope ``bau`` or ``combined``), ``reduction_vs_bau`` (fraction) and
        ``lever_reduction`` (scope = lever), all in the target year.
    """
    rows = []
    for city, base in baselines.items():
        chk = checks[city]
        w = wedge_tables[city]
        w = w[w["year"] == target_year]
        for p in POLLUTANTS:
            common = {"city": city, "pollutant": p}
            rows.append(
                {
                    **common,
                    "metric": "baseline_emissions",
                    "value": base[p].sum(),
                    "unit": "t/yr",
                    "scope": "passenger-transport",
                }
            )
            for scen in ("BAU", "Combined"):
                rows.append(
                    {
                        **common,
                        "metric": "target_year_emissions",
                        "value": chk.loc[p, scen],
                        "unit": "t/yr",
                        "scope": scen.lower(),
                    }
                )
            rows.append(
                {
                    **common,
                    "metric": "reduction_vs_bau",
                    "value": chk.loc[p, "reduction"],
                    "unit": "fraction",
                    "scope": "combined",
                }
            )
            for lever in LEVER_GROUPS:
                value = w[(w["pollutant"] == p) & (w["lever"] == lever)]["reduction"].sum()
                rows.append(
                    {
                        **common,
                        "metric": "lever_reduction",
                        "value": value,
                        "unit": "t/yr",
                        "scope": lever,
                    }
                )
    out = pd.DataFrame(rows)
    out["headline"] = out["metric"].isin(["baseline_emissions", "reduction_vs_bau"])
    return out


def lever_table(levers: Levers) -> pd.DataFrame:
    """The levers of a scenario, by group, with what each one means.

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``lever``, ``value`` [-], ``meaning``.
    """
    meaning = {
        "avoid": "share of business-as-usual passenger-km avoided (fewer, shorter trips)",
        "shift": "share of car, taxi and motorcycle passenger-km moved to other modes",
        "ev_car": "electric share of car and taxi vehicle-km",
        "ev_motorcycle": "electric share of motorcycle vehicle-km",
        "ev_bus": "electric share of bus and BRT vehicle-km",
        "bus_euro6": "share of the remaining diesel bus vehicle-km at Euro VI",
        "lez_vkm_share": "share of road vehicle-km driven inside the low-emission zone",
    }
    rows = [
        {"group": g, "lever": n, "value": getattr(levers, n), "meaning": meaning[n]}
        for g, names in LEVER_GROUPS.items()
        for n in names
    ]
    w = pd.Series({m: float(levers.shift_to.get(m, 0.0)) for m in SHIFT_TARGETS})
    w = w / w.sum()
    rows += [
        {
            "group": "shift",
            "lever": f"shift_to_{m}",
            "value": w[m],
            "meaning": f"part of the shifted passenger-km that goes to {m}",
        }
        for m in SHIFT_TARGETS
    ]
    return pd.DataFrame(rows)


def what_if(
    city: CityTransport,
    levers: Levers,
    base_year: int,
    target_year: int,
    shift: float,
    ev_car: float,
    ev_motorcycle: float,
    ev_bus: float,
):
    """Explorer update: the shift and fleet levers changed → wedge chart and table.

    Parameters
    ----------
    city : CityTransport
        The city.
    levers : Levers
        The other levers (avoid, Euro VI buses, LEZ, shift targets) as set.
    base_year, target_year : int
        Scenario years.
    shift, ev_car, ev_motorcycle, ev_bus : float
        Lever values in the target year. [-]

    Returns
    -------
    tuple
        (matplotlib Figure: CO2 and PM2.5 wedges; pandas.DataFrame: BAU, scenario and
        reduction in the target year by pollutant).
    """
    lev = replace(levers, shift=shift, ev_car=ev_car, ev_motorcycle=ev_motorcycle, ev_bus=ev_bus)
    traj = trajectories(city, {"BAU": lev.only([]), "Combined": lev}, base_year, target_year)
    wed = wedges(city, lev, base_year, target_year)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, p in zip(axes, ("CO2", "PM2.5"), strict=True):
        _draw_wedges(ax, traj, wed, p, f"{p} (t/yr)")
    axes[-1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    table = target_check(traj, target_year, 0.0)[["BAU", "Combined", "reduction"]]
    table = table.rename(columns={"Combined": "scenario", "reduction": "reduction (fraction)"})
    return fig, table


def assumption_rows(levers: Levers, base_year: int, target_year: int) -> list[dict]:
    """The workbook's own assumptions beyond the city inputs, as assumption records.

    Returns
    -------
    list of dict
        Keys ``city``, ``input``, ``value``, ``unit``, ``basis``, ``source``.
    """
    lez = lez_effects()
    pm = lez[(lez["pollutant"] == "PM10") & (lez["site"] == "traffic")].iloc[0]
    no2 = lez[lez["pollutant"] == "NO2"].iloc[0]
    rows = [
        {
            "city": "all",
            "input": f"lever {r.lever}",
            "value": r.value,
            "unit": "fraction",
            "basis": f"scenario setting ({r.meaning}), reached in {target_year}, "
            f"linear from {base_year}",
            "source": "workbook parameter",
        }
        for r in lever_table(levers).itertuples()
    ]
    rows += [
        {
            "city": "all",
            "input": "LEZ effect on in-zone PM2.5 exhaust",
            "value": -float(pm["change"]),
            "unit": "fraction",
            "basis": "the measured Munich change in annual PM10 concentration at a traffic "
            "site, used as a proxy for the PM2.5 exhaust emissions of vehicle-km inside the "
            "zone (transfer of pollutant, metric and city)",
            "source": pm["source"],
        },
        {
            "city": "all",
            "input": "LEZ effect on NOx",
            "value": -float(no2["change"]),
            "unit": "fraction",
            "basis": "NO2 not consistently reduced in Berlin and Munich, taken as no effect",
            "source": no2["source"],
        },
        {
            "city": "all",
            "input": "base-year vehicle technology",
            "value": 0.0,
            "unit": "fraction",
            "basis": "no electric cars, motorcycles or buses in the base year; cars and "
            "motorcycles at the petrol Tier 1 averages",
            "source": "assumption (no fleet data in the reference)",
        },
        {
            "city": "all",
            "input": "occupancy, per-km factors and grid factor over time",
            "value": float("nan"),
            "unit": "",
            "basis": "held at base-year values in every scenario year",
            "source": "assumption",
        },
    ]
    return rows
