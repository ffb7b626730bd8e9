"""Public bike-sharing: system sizing, demand, avoided emissions and health benefits.

The chain a workbook follows:

1. size a system against the ITDP planning benchmarks (:func:`size_system`,
   :func:`sizing_table`) and compare a documented system with them
   (:func:`system_indicators`); sketch the station grid (:func:`station_layout`);
2. turn trips per bike per day into annual trips and bike-km (:func:`demand_scenarios`);
3. turn bike-km into the passenger-km, vehicle-km and emissions of the trips it replaces,
   net of the van-km spent rebalancing bikes (:func:`avoided_emissions`);
4. value the physical activity with the WHO HEAT method for cycling (:func:`heat_cycling`).

Reference figures come from ``bikeshare_benchmarks.csv``, ``bikeshare_systems.csv`` and
``bikeshare_heat.csv``; transport factors from :mod:`c3lib.topics.transport`. Figures,
reader tables, the explorer update and the run record's rows are in
:mod:`c3lib.topics.bikeshare.views`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table
from c3lib.topics.transport import model as transport
from c3lib.topics.transport.model import POLLUTANTS

__all__ = [
    "SUBSTITUTED_MODES",
    "SystemSize",
    "ExistingSystem",
    "HeatResult",
    "StationLayout",
    "itdp_benchmarks",
    "observed_systems",
    "heat_parameters",
    "station_spacing_m",
    "size_system",
    "sizing_table",
    "existing_system",
    "system_indicators",
    "equivalent_coverage_km2",
    "trip_length_km",
    "annual_trips",
    "trip_rate_scenarios",
    "demand_scenarios",
    "substitution_shares",
    "with_car_share",
    "substitution_credit",
    "vehicle_km_per_pkm",
    "mode_vehicle_factors",
    "avoided_activity",
    "avoided_emissions",
    "heat_cycling",
    "station_layout",
    "Plan",
    "Outcome",
    "Assessment",
    "central_trip_rate",
    "coverage_density",
    "replaced_trip_factors",
    "assess_city",
]

SUBSTITUTED_MODES = ("car", "taxi", "motorcycle", "bus", "walk")
_MODES = list(SUBSTITUTED_MODES)
DAYS_PER_YEAR = 365.0
WEEKS_PER_YEAR = 365.0 / 7.0


# --- reference tables -------------------------------------------------------------------


def itdp_benchmarks() -> pd.DataFrame:
    """The ITDP (2013) planning benchmarks, indexed by metric.

    Returns
    -------
    pandas.DataFrame
        Columns ``low``, ``high``, ``unit``, ``source``, ``quality``, ``note``; metrics
        ``station_density``, ``station_spacing``, ``bikes_per_1000_residents``,
        ``minimum_coverage_area``, ``trips_per_bike_day``, ``trips_per_1000_residents_day``
        and ``docks_per_bike``.
    """
    return _itdp_benchmarks().copy()


@cache
def _itdp_benchmarks() -> pd.DataFrame:
    return reference_table("bikeshare_benchmarks").set_index("metric")


def _ends(benchmarks: pd.DataFrame | None, metric: str) -> tuple[float, float]:
    """The low and high end of a benchmark metric, from the cached table when none is given."""
    if benchmarks is None:
        return _default_ends(metric)
    low, high = benchmarks.loc[metric, ["low", "high"]].to_numpy(dtype=float)
    return float(low), float(high)


@cache
def _default_ends(metric: str) -> tuple[float, float]:
    return _ends(_itdp_benchmarks(), metric)


def observed_systems() -> pd.DataFrame:
    """Observed systems (world-class 2013; Fishman et al. 2014 for 2012), in long form.

    Returns
    -------
    pandas.DataFrame
        Columns ``system``, ``year``, ``metric``, ``value``, ``unit``, ``source``,
        ``quality``, ``note``.
    """
    return reference_table("bikeshare_systems")


def heat_parameters(activity: str = "cycling") -> dict[str, float]:
    """The WHO HEAT dose-response parameters for an activity.

    Parameters
    ----------
    activity : str, optional
        ``cycling`` (default) or ``walking``.

    Returns
    -------
    dict
        ``relative_risk`` [-], ``reference_minutes_per_week`` [min/week] and
        ``risk_reduction_cap`` [-].
    """
    return dict(_heat_parameters(activity))


@cache
def _heat_parameters(activity: str) -> dict[str, float]:
    df = reference_table("bikeshare_heat")
    sub = df[df["case"] == activity].set_index("parameter")["value"]
    keys = ("relative_risk", "reference_minutes_per_week", "risk_reduction_cap")
    missing = [k for k in keys if k not in sub.index]
    if missing:
        raise ReferenceDataError(f"bikeshare_heat.csv: {activity} lacks {missing}")
    return {k: float(sub[k]) for k in keys}


# --- sizing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemSize:
    """A bike-share system sized for a coverage area.

    Attributes
    ----------
    coverage_area_km2 : float
        Area covered. [km²]
    residents : float
        Residents in the coverage area. [persons]
    stations, bikes, docks : float
        What the area needs. [stations], [bikes], [docks]
    station_spacing_m : float
        Distance between neighbouring stations on a square grid. [m]
    """

    coverage_area_km2: float
    residents: float
    stations: float
    bikes: float
    docks: float
    station_spacing_m: float


def station_spacing_m(stations_per_km2: float) -> float:
    """Distance between neighbouring stations on a square grid of a given density.

    Parameters
    ----------
    stations_per_km2 : float
        Station density. [stations/km²]

    Returns
    -------
    float
        Spacing. [m]

    Notes
    -----
    On a square grid each station serves a square of side :math:`s`, so
    :math:`s = 1000 / \\sqrt{d}` m. ITDP's 10–16 stations/km² gives 316–250 m, matching
    its "about 300 m apart".
    """
    if stations_per_km2 <= 0:
        raise ValueError(f"station density must be positive, got {stations_per_km2!r}")
    return 1000.0 / math.sqrt(stations_per_km2)


def size_system(
    coverage_area_km2: float,
    population_density: float,
    stations_per_km2: float,
    bikes_per_1000_residents: float,
    docks_per_bike: float,
) -> SystemSize:
    """Stations, bikes and docks a coverage area needs at given planning ratios.

    Parameters
    ----------
    coverage_area_km2 : float
        Area to cover. [km²]
    population_density : float
        Residents per km² in the coverage area. [persons/km²]
    stations_per_km2 : float
        Station density (ITDP: 10–16). [stations/km²]
    bikes_per_1000_residents : float
        Fleet ratio (ITDP: 10–30). [bikes per 1,000 residents]
    docks_per_bike : float
        Dock-to-bike ratio (about 2–2.5, unsourced). [docks/bike]

    Returns
    -------
    SystemSize

    Notes
    -----
    :math:`N_{st} = A \\cdot d`; :math:`R = A \\cdot \\rho`;
    :math:`N_{bike} = R \\cdot b / 1000`; :math:`N_{dock} = N_{bike} \\cdot k`.

    References
    ----------
    .. [1] ITDP (2013) The Bike-Share Planning Guide, Institute for Transportation and
       Development Policy, New York.
    """
    for name, v in {
        "coverage_area_km2": coverage_area_km2,
        "population_density": population_density,
        "bikes_per_1000_residents": bikes_per_1000_residents,
        "docks_per_bike": docks_per_bike,
    }.items():
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite non-negative number, got {v!r}")
    residents = coverage_area_km2 * population_density
    bikes = residents * bikes_per_1000_residents / 1000.0
    return SystemSize(
        coverage_area_km2=coverage_area_km2,
        residents=residents,
        stations=coverage_area_km2 * stations_per_km2,
        bikes=bikes,
        docks=bikes * docks_per_bike,
        station_spacing_m=station_spacing_m(stations_per_km2),
    )


def sizing_table(
    coverage_area_km2: float,
    population_density: float,
    stations_per_km2: float,
    bikes_per_1000_residents: float,
    docks_per_bike: float,
    benchmarks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The system a coverage area needs at the ITDP low and high benchmarks and at the plan.

    Parameters
    ----------
    coverage_area_km2 : float
        Area to cover. [km²]
    population_density : float
        Residents per km² in the coverage area. [persons/km²]
    stations_per_km2, bikes_per_1000_residents, docks_per_bike : float
        The plan's ratios. [stations/km²], [bikes per 1,000 residents], [docks/bike]
    benchmarks : pandas.DataFrame, optional
        From :func:`itdp_benchmarks` (read when not given).

    Returns
    -------
    pandas.DataFrame
        Rows ``coverage area``, ``residents covered``, ``stations``, ``bikes``, ``docks``,
        ``station spacing``; columns ``ITDP low``, ``plan``, ``ITDP high``, ``unit``.
        "Low" takes every ratio at its low end (fewest stations, bikes and docks).
    """
    ratios = ("station_density", "bikes_per_1000_residents", "docks_per_bike")
    ends = [_ends(benchmarks, r) for r in ratios]
    cases = {
        "ITDP low": tuple(lo for lo, _ in ends),
        "plan": (stations_per_km2, bikes_per_1000_residents, docks_per_bike),
        "ITDP high": tuple(hi for _, hi in ends),
    }
    cols = {}
    for label, plan in cases.items():
        s = size_system(coverage_area_km2, population_density, *map(float, plan))
        cols[label] = [
            s.coverage_area_km2,
            s.residents,
            s.stations,
            s.bikes,
            s.docks,
            s.station_spacing_m,
        ]
    index = ["coverage area", "residents covered", "stations", "bikes", "docks", "station spacing"]
    out = pd.DataFrame(cols, index=index)
    out["unit"] = ["km2", "persons", "stations", "bikes", "docks", "m"]
    return out


@dataclass(frozen=True)
class ExistingSystem:
    """A city's documented bike-share system (NaN where a figure is not documented).

    Attributes
    ----------
    stations : float
        [stations]
    bikes : float
        [bikes]
    daily_trips : float
        [trips/day]
    """

    stations: float = float("nan")
    bikes: float = float("nan")
    daily_trips: float = float("nan")

    @property
    def documented(self) -> bool:
        """Whether any figure of the system is documented."""
        return not all(math.isnan(v) for v in (self.stations, self.bikes, self.daily_trips))

    @property
    def trips_per_bike_day(self) -> float:
        """Observed daily uses per bike (NaN unless trips and bikes are both documented)."""
        if math.isnan(self.bikes) or self.bikes == 0:
            return float("nan")
        return self.daily_trips / self.bikes


def existing_system(inputs: pd.DataFrame, role: str) -> ExistingSystem:
    """The documented system of the city in ``role``, read from a workbook's inputs.

    Parameters
    ----------
    inputs : pandas.DataFrame
        Long inputs table (columns ``role``, ``field``, ``value``), as from
        :func:`c3lib.kit.casestudy.inputs`.
    role : str
        ``mentor`` or ``learning``.

    Returns
    -------
    ExistingSystem
        Stations [stations], bikes [bikes] and daily trips [trips/day]; NaN where the
        inputs do not document a figure.
    """
    sub = inputs[inputs["role"] == role].set_index("field")["value"]

    def get(field: str) -> float:
        return float(sub[field]) if field in sub.index else float("nan")

    return ExistingSystem(
        stations=get("existing_stations"),
        bikes=get("existing_bikes"),
        daily_trips=get("existing_daily_trips"),
    )


def system_indicators(
    existing: ExistingSystem,
    population: float,
    area_km2: float,
    benchmarks: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A documented system's city-wide indicators next to the ITDP benchmark ranges.

    Parameters
    ----------
    existing : ExistingSystem
        The documented system.
    population : float
        City population. [persons]
    area_km2 : float
        City area. [km²]
    benchmarks : pandas.DataFrame, optional
        From :func:`itdp_benchmarks`.

    Returns
    -------
    pandas.DataFrame
        Rows ``stations per km2``, ``bikes per 1,000 residents``, ``trips per bike per
        day``, ``trips per 1,000 residents per day``; columns ``value``, ``ITDP low``,
        ``ITDP high``, ``unit``. NaN where the system's figures are not documented.

    Notes
    -----
    City-wide ratios understate the density in the served area when the system does
    not cover the whole city; :func:`equivalent_coverage_km2` gives the area the
    stations would cover at the benchmark densities.
    """
    rows = {
        "stations per km2": (
            existing.stations / area_km2,
            *_ends(benchmarks, "station_density"),
            "stations/km2",
        ),
        "bikes per 1,000 residents": (
            existing.bikes / population * 1000.0,
            *_ends(benchmarks, "bikes_per_1000_residents"),
            "bikes per 1,000 residents",
        ),
        "trips per bike per day": (
            existing.trips_per_bike_day,
            *_ends(benchmarks, "trips_per_bike_day"),
            "trips/bike/day",
        ),
        "trips per 1,000 residents per day": (
            existing.daily_trips / population * 1000.0,
            *_ends(benchmarks, "trips_per_1000_residents_day"),
            "trips per 1,000 residents per day",
        ),
    }
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["value", "ITDP low", "ITDP high", "unit"]
    )


def equivalent_coverage_km2(
    stations: float, benchmarks: pd.DataFrame | None = None
) -> tuple[float, float]:
    """The area a number of stations would cover at the ITDP station densities.

    Parameters
    ----------
    stations : float
        Number of stations. [stations]
    benchmarks : pandas.DataFrame, optional
        From :func:`itdp_benchmarks`.

    Returns
    -------
    tuple of float
        Area at the high density (16/km²) and at the low density (10/km²). [km²]
    """
    d_lo, d_hi = _ends(benchmarks, "station_density")
    return stations / d_hi, stations / d_lo


# --- demand -----------------------------------------------------------------------------


def trip_length_km(trip_minutes: float, speed_kmh: float) -> float:
    """Trip length from duration and speed.

    Parameters
    ----------
    trip_minutes : float
        Mean trip duration. [min]
    speed_kmh : float
        Mean cycling speed. [km/h]

    Returns
    -------
    float
        [km]

    Notes
    -----
    :math:`d = t \\cdot v / 60`, as Fishman et al. (2014) estimate km per trip at
    12 km/h.
    """
    return trip_minutes * speed_kmh / 60.0


def annual_trips(bikes: float, trips_per_bike_day: float, days_per_yr: float = 365.0) -> float:
    """Trips a year of a fleet.

    Parameters
    ----------
    bikes : float
        Fleet size. [bikes]
    trips_per_bike_day : float
        Daily uses per bike. [trips/bike/day]
    days_per_yr : float, optional
        Operating days a year. [d/yr]

    Returns
    -------
    float
        [trips/yr]
    """
    return bikes * trips_per_bike_day * days_per_yr


def trip_rate_scenarios() -> pd.Series:
    """Demand scenarios in trips per bike per day, each from a sourced figure.

    Returns
    -------
    pandas.Series
        ``low`` (Melbourne 2012, Fishman et al. 2014: a system with little use),
        ``central`` (ITDP lower benchmark) and ``high`` (ITDP upper benchmark).
        [trips/bike/day]
    """
    return pd.Series(dict(_trip_rates()), name="trips_per_bike_day")


@cache
def _trip_rates() -> tuple[tuple[str, float], ...]:
    obs = observed_systems()
    low = obs[(obs["system"] == "Melbourne") & (obs["metric"] == "trips_per_bike_day")]
    if low.empty:
        raise ReferenceDataError("bikeshare_systems.csv: Melbourne trips_per_bike_day missing")
    central, high = _ends(None, "trips_per_bike_day")
    return (("low", float(low["value"].iloc[0])), ("central", central), ("high", high))


def demand_scenarios(
    bikes: float, rates: pd.Series | dict, trip_km: float, days_per_yr: float = DAYS_PER_YEAR
) -> pd.DataFrame:
    """Annual trips and bike-km for each demand scenario.

    Parameters
    ----------
    bikes : float
        Fleet size. [bikes]
    rates : pandas.Series or dict
        Daily uses per bike by scenario name. [trips/bike/day]
    trip_km : float
        Mean trip length. [km]
    days_per_yr : float, optional
        Operating days a year. [d/yr]

    Returns
    -------
    pandas.DataFrame
        Indexed by scenario; columns ``trips_per_bike_day`` [trips/bike/day],
        ``daily_trips`` [trips/day], ``annual_trips`` [trips/yr], ``bike_km`` [km/yr].
    """
    rates = pd.Series(rates, dtype=float)
    out = pd.DataFrame({"trips_per_bike_day": rates})
    out["daily_trips"] = bikes * rates
    out["annual_trips"] = annual_trips(bikes, rates, days_per_yr)
    out["bike_km"] = out["annual_trips"] * trip_km
    return out.rename_axis("scenario")


# --- mode substitution and avoided emissions --------------------------------------------


def substitution_shares(
    car: float, taxi: float, motorcycle: float, bus: float, walk: float
) -> pd.Series:
    """Shares of bike-share trips by the mode they replace, plus new or other trips.

    Parameters
    ----------
    car, taxi, motorcycle, bus, walk : float
        Share of trips that would otherwise have been made by each mode. [-]

    Returns
    -------
    pandas.Series
        Indexed by ``car``, ``taxi``, ``motorcycle``, ``bus``, ``walk`` and
        ``new_or_other`` (the remainder: induced trips and modes with no exhaust). [-]

    Raises
    ------
    ValueError
        A share is outside 0–1 or the shares add up to more than 1.
    """
    s = pd.Series(
        {"car": car, "taxi": taxi, "motorcycle": motorcycle, "bus": bus, "walk": walk},
        dtype=float,
    )
    if ((s < 0) | (s > 1) | s.isna()).any():
        raise ValueError(f"substitution shares must be within 0–1, got {s.to_dict()}")
    total = float(s.sum())
    if total > 1.0 + 1e-9:
        raise ValueError(f"substitution shares add up to {total:.3f} > 1: {s.to_dict()}")
    s["new_or_other"] = max(0.0, 1.0 - total)
    return s.rename("share").rename_axis("mode")


def with_car_share(shares: pd.Series, car: float) -> pd.Series:
    """The same substitution shares with a new car share, the others scaled down if needed.

    Parameters
    ----------
    shares : pandas.Series
        From :func:`substitution_shares`.
    car : float
        New car share. [-]

    Returns
    -------
    pandas.Series
        Shares with ``car`` set; when the modes would exceed 1, the non-car modes are
        scaled by a common factor so they fill exactly ``1 − car``.
    """
    if not 0.0 <= car <= 1.0:
        raise ValueError(f"car share must be within 0–1, got {car!r}")
    others = shares.reindex(["taxi", "motorcycle", "bus", "walk"]).astype(float)
    room = 1.0 - car
    if others.sum() > room:
        others = others * (room / others.sum())
    return substitution_shares(car, *others.to_numpy())


def substitution_credit() -> pd.DataFrame:
    """How a replaced trip of each mode is credited, indexed by mode.

    Returns
    -------
    pandas.DataFrame
        Columns ``credit`` (``vehicle_trip``: one vehicle-km per km ridden, the rider's own
        trip; ``occupancy``: one vehicle-km per :math:`o_m` passenger-km; ``none``: no
        vehicle-km), ``source``, ``quality``, ``note``; one row per substituted mode.
    """
    return _substitution_credit().copy()


@cache
def _substitution_credit() -> pd.DataFrame:
    df = reference_table("bikeshare_substitution").set_index("mode")
    missing = [m for m in SUBSTITUTED_MODES if m not in df.index]
    if missing:
        raise ReferenceDataError(f"bikeshare_substitution.csv: no row for mode(s) {missing}")
    bad = sorted(set(df["credit"]) - {"vehicle_trip", "occupancy", "none"})
    if bad:
        raise ReferenceDataError(
            f"bikeshare_substitution.csv: credit {bad} (expected vehicle_trip, occupancy, none)"
        )
    return df


def vehicle_km_per_pkm(occupancy: pd.Series) -> pd.Series:
    """Vehicle-km a replaced trip takes off the road per km ridden, by substituted mode.

    Parameters
    ----------
    occupancy : pandas.Series
        Effective persons per vehicle by mode, from :func:`c3lib.topics.transport.occupancy`
        (used for the modes credited by ``occupancy``). [persons/vehicle]

    Returns
    -------
    pandas.Series
        Indexed by the substituted modes. [vehicle-km/pkm]

    Notes
    -----
    From :func:`substitution_credit`: a replaced car or motorcycle trip is the rider's own
    vehicle trip, 1 vehicle-km per km, as Fishman et al. (2014) count car trips replaced;
    a taxi ride :math:`1 / o_{taxi}` (hired and empty running); a bus ride and a walk 0,
    since buses run to a timetable whoever rides them.

    References
    ----------
    .. [1] Fishman E., Washington S., Haworth N. (2014) Bike share's impact on car use:
       evidence from the United States, Great Britain, and Australia. Transportation
       Research Part D 31:13–20. doi:10.1016/j.trd.2014.05.013
    """
    credit = _substitution_credit()["credit"].reindex(_MODES).to_numpy()
    occ = occupancy.reindex(_MODES).to_numpy(dtype=float)
    out = np.where(credit == "vehicle_trip", 1.0, 0.0)
    by_occupancy = credit == "occupancy"
    out[by_occupancy] = 1.0 / occ[by_occupancy]
    return pd.Series(out, index=pd.Index(_MODES, name="mode"), name="vehicle_km_per_pkm")


def mode_vehicle_factors(grid_ef: float) -> pd.DataFrame:
    """Exhaust factors per vehicle-km of the vehicle each substituted mode uses.

    Parameters
    ----------
    grid_ef : float
        Grid CO2 factor (electric vehicles). [kg CO2/kWh]

    Returns
    -------
    pandas.DataFrame
        Indexed by the substituted modes; columns ``vehicle``, ``PM2.5``, ``NOx``, ``CO2``
        [g/km], from :func:`c3lib.topics.transport.vehicle_factors` for the vehicles of
        :data:`c3lib.topics.transport.DEFAULT_VEHICLES`.
    """
    return _mode_vehicle_factors(transport.mode_table, grid_ef).copy()


@lru_cache(maxsize=32)
def _mode_vehicle_factors(table_of, grid_ef: float) -> pd.DataFrame:
    # keyed on the function that reads the transport table, so a replaced table is read anew
    vehicles = [transport.DEFAULT_VEHICLES[m] for m in _MODES]
    f = transport.vehicle_factors(grid_ef).loc[vehicles, list(POLLUTANTS)]
    f.index = pd.Index(_MODES, name="mode")
    f.insert(0, "vehicle", vehicles)
    return f


def avoided_activity(bike_km: float, shares: pd.Series, vkm_per_pkm: pd.Series) -> pd.DataFrame:
    """Passenger-km and vehicle-km of the trips bike-sharing replaces.

    Parameters
    ----------
    bike_km : float
        Bike-km a year. [km/yr]
    shares : pandas.Series
        From :func:`substitution_shares`. [-]
    vkm_per_pkm : pandas.Series
        Vehicle-km taken off the road per km ridden, by mode, from
        :func:`vehicle_km_per_pkm`. [vehicle-km/pkm]

    Returns
    -------
    pandas.DataFrame
        Indexed by the substituted modes; columns ``share`` [-], ``pkm`` [pkm/yr] and
        ``vehicle_km`` [km/yr].

    Notes
    -----
    Each bike-km replaces one passenger-km of the mode it substitutes:
    :math:`pkm_m = d_{bike} \\cdot s_m` and :math:`vkm_m = pkm_m \\cdot k_m`, with
    :math:`k_m` from :func:`vehicle_km_per_pkm` (1 for a car, 0 for a bus or a walk).
    """
    s = shares.reindex(_MODES).to_numpy(dtype=float)
    pkm = bike_km * s
    vkm = pkm * vkm_per_pkm.reindex(_MODES).to_numpy(dtype=float)
    index = pd.Index(_MODES, name="mode")
    return pd.DataFrame({"share": s, "pkm": pkm, "vehicle_km": vkm}, index=index)


def avoided_emissions(
    bike_km: float,
    shares: pd.Series,
    vkm_factors: pd.DataFrame,
    rebalancing_van_km: float,
    van_factors: pd.Series,
    vkm_per_pkm: pd.Series,
) -> pd.DataFrame:
    """Emissions avoided by the replaced trips, net of rebalancing.

    Parameters
    ----------
    bike_km : float
        Bike-km a year. [km/yr]
    shares : pandas.Series
        From :func:`substitution_shares`. [-]
    vkm_factors : pandas.DataFrame
        Exhaust factors per vehicle-km by substituted mode (columns ``PM2.5``, ``NOx``,
        ``CO2``), from :func:`mode_vehicle_factors`. [g/km]
    rebalancing_van_km : float
        Van-km a year to rebalance and service the fleet. [km/yr]
    van_factors : pandas.Series
        The rebalancing van's factors (``PM2.5``, ``NOx``, ``CO2``) [g/km], a row of
        :func:`c3lib.topics.transport.vehicle_factors`.
    vkm_per_pkm : pandas.Series
        From :func:`vehicle_km_per_pkm`. [vehicle-km/pkm]

    Returns
    -------
    pandas.DataFrame
        Rows: each substituted mode (positive = avoided), ``rebalancing`` (negative) and
        ``net``; columns ``pkm`` [pkm/yr], ``vehicle_km`` [km/yr], ``PM2.5``, ``NOx``,
        ``CO2`` [t/yr].

    Notes
    -----
    .. math:: \\Delta E_p = d_{bike} \\sum_m s_m \\, k_m \\, EF_{m,p} - vkm_{van} \\, EF_{van,p}

    with :math:`EF_{m,p}` in g/km and :math:`k_m` the vehicle-km per replaced km. Only
    vehicle-km that leave the road count: a replaced car trip is one car trip (Fishman
    et al. 2014), a replaced bus ride none (the bus runs anyway), a walk none; the
    rebalancing term follows Fishman et al. (2014).

    References
    ----------
    .. [1] Fishman E., Washington S., Haworth N. (2014) Bike share's impact on car use:
       evidence from the United States, Great Britain, and Australia. Transportation
       Research Part D 31:13–20. doi:10.1016/j.trd.2014.05.013
    """
    act = avoided_activity(bike_km, shares, vkm_per_pkm)
    factors = vkm_factors.reindex(_MODES)[list(POLLUTANTS)].to_numpy(dtype=float)
    vkm = act["vehicle_km"].to_numpy()
    rows = np.empty((len(_MODES) + 2, 2 + len(POLLUTANTS)))
    rows[: len(_MODES), 0] = act["pkm"].to_numpy()
    rows[: len(_MODES), 1] = vkm
    rows[: len(_MODES), 2:] = vkm[:, None] * factors / 1e6
    van = np.array([float(van_factors[p]) for p in POLLUTANTS])
    rows[-2] = [0.0, -rebalancing_van_km, *(-rebalancing_van_km * van / 1e6)]
    rows[-1] = rows[:-1].sum(axis=0)
    index = pd.Index([*_MODES, "rebalancing", "net"], name="mode")
    return pd.DataFrame(rows, index=index, columns=["pkm", "vehicle_km", *POLLUTANTS])


# --- health (WHO HEAT) ------------------------------------------------------------------


@dataclass(frozen=True)
class HeatResult:
    """Outcome of a HEAT cycling assessment.

    Attributes
    ----------
    users : float
        Regular users the trips amount to. [persons]
    minutes_per_user_week : float
        Cycling per user. [min/week]
    risk_reduction : float
        Reduction of all-cause mortality risk per user, after the cap. [-]
    deaths_avoided : float
        Premature deaths avoided. [deaths/yr]
    value : float
        Their value at the VSL. [currency of the VSL per yr]
    capped : bool
        Whether the cap bound.
    """

    users: float
    minutes_per_user_week: float
    risk_reduction: float
    deaths_avoided: float
    value: float
    capped: bool


def heat_cycling(
    annual_trips: float,
    trip_minutes: float,
    trips_per_user_week: float,
    mortality_rate_per_100k: float,
    vsl: float,
    relative_risk: float = 0.90,
    reference_minutes_per_week: float = 100.0,
    risk_reduction_cap: float = 0.45,
) -> HeatResult:
    """Deaths avoided and their value with the WHO HEAT method for cycling.

    Parameters
    ----------
    annual_trips : float
        Bike-share trips a year. [trips/yr]
    trip_minutes : float
        Mean trip duration. [min]
    trips_per_user_week : float
        Trips a regular user makes a week. [trips/week]
    mortality_rate_per_100k : float
        All-cause mortality of adults 20–64. [deaths per 100,000 per yr]
    vsl : float
        Value of a statistical life. [currency]
    relative_risk : float, optional
        All-cause mortality relative risk at the reference volume (HEAT: 0.90). [-]
    reference_minutes_per_week : float, optional
        The reference volume (HEAT: 100 min/week). [min/week]
    risk_reduction_cap : float, optional
        Largest risk reduction credited (HEAT 2017 guide: 45 %, unsourced here). [-]

    Returns
    -------
    HeatResult

    Notes
    -----
    Users: :math:`N = T / (52.14 \\cdot f)`; minutes per user :math:`x = f \\cdot t`;
    risk reduction :math:`r = \\min((1 - RR) \\, x / x_{ref}, r_{cap})` (linear dose-response);
    deaths avoided :math:`D = N \\cdot m / 10^5 \\cdot r`; value :math:`V = D \\cdot VSL`.
    While the cap does not bind, :math:`D` depends only on the total minutes cycled,
    not on how they are shared among users. All users are taken to be adults 20–64;
    the benefit of walking trips the bike replaces is not deducted, and HEAT's build-up
    period is ignored (full effect every year).

    References
    ----------
    .. [1] Kelly P., Kahlmeier S., Götschi T. et al. (2014) Systematic review and
       meta-analysis of reduction in all-cause mortality from walking and cycling and
       shape of dose response relationship. IJBNPA 11:132. doi:10.1186/s12966-014-0132-x
    .. [2] WHO Regional Office for Europe, Health Economic Assessment Tool (HEAT) for
       walking and cycling, heatwalkingcycling.org.
    """
    if trips_per_user_week <= 0:
        raise ValueError("trips_per_user_week must be positive")
    users = float(annual_trips) / (WEEKS_PER_YEAR * trips_per_user_week)
    minutes = trips_per_user_week * trip_minutes
    uncapped = (1.0 - relative_risk) * minutes / reference_minutes_per_week
    reduction = min(uncapped, risk_reduction_cap)
    deaths = users * float(mortality_rate_per_100k) / 1e5 * reduction
    return HeatResult(
        users=users,
        minutes_per_user_week=minutes,
        risk_reduction=reduction,
        deaths_avoided=deaths,
        value=deaths * float(vsl),
        capped=uncapped > risk_reduction_cap,
    )


# --- station layout ---------------------------------------------------------------------


@dataclass(frozen=True)
class StationLayout:
    """A square coverage area with stations on a regular grid.

    Attributes
    ----------
    coverage_area_km2 : float
        [km²]
    side_km : float
        Side of the square. [km]
    spacing_m : float
        Grid spacing. [m]
    catchment_m : float
        Walking catchment radius drawn around each station. [m]
    stations : pandas.DataFrame
        Columns ``x_km``, ``y_km``. [km]
    """

    coverage_area_km2: float
    side_km: float
    spacing_m: float
    catchment_m: float
    stations: pd.DataFrame


def station_layout(
    coverage_area_km2: float, stations_per_km2: float, catchment_m: float | None = None
) -> StationLayout:
    """A regular grid of stations over a square coverage area (a sketch, not a siting plan).

    Parameters
    ----------
    coverage_area_km2 : float
        Area to cover. [km²]
    stations_per_km2 : float
        Station density. [stations/km²]
    catchment_m : float, optional
        Walking catchment radius; default half the cell diagonal, :math:`s / \\sqrt{2}`,
        the smallest radius whose circles leave no gap. [m]

    Returns
    -------
    StationLayout

    Notes
    -----
    The square has side :math:`L = \\sqrt{A}`; stations sit at the centres of
    :math:`n \\times n` cells with :math:`n = \\max(1, \\mathrm{round}(L / s))`, so the
    station count is close to :math:`A \\cdot d`.
    """
    if coverage_area_km2 <= 0:
        raise ValueError(f"coverage area must be positive, got {coverage_area_km2!r}")
    spacing = station_spacing_m(stations_per_km2)
    side = math.sqrt(coverage_area_km2)
    n = max(1, round(side * 1000.0 / spacing))
    step = side / n
    centres = (np.arange(n) + 0.5) * step
    x, y = np.meshgrid(centres, centres)
    grid = pd.DataFrame({"x_km": x.ravel(), "y_km": y.ravel()})
    radius = spacing / math.sqrt(2.0) if catchment_m is None else float(catchment_m)
    return StationLayout(coverage_area_km2, side, spacing, radius, grid)


# --- one city, end to end ---------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The planning ratios a workbook applies to every city.

    Attributes
    ----------
    stations_per_km2 : float
        [stations/km²]
    bikes_per_1000_residents : float
        [bikes per 1,000 residents]
    docks_per_bike : float
        [docks/bike]
    trips_per_bike_day : float
        The central demand scenario where a city's own system gives no observed rate
        (ITDP's lower benchmark by default). [trips/bike/day]
    calibrate : bool
        Whether a city's documented system, where both its daily trips and its fleet are
        documented, sets the central rate instead (:func:`central_trip_rate`).
    """

    stations_per_km2: float = 13.0
    bikes_per_1000_residents: float = 20.0
    docks_per_bike: float = 2.25
    trips_per_bike_day: float = 4.0
    calibrate: bool = True


@dataclass(frozen=True)
class Outcome:
    """Trips, avoided emissions and health benefit of one fleet at one use rate.

    Attributes
    ----------
    fleet : float
        Bikes. [bikes]
    fleet_basis : str
        Where the fleet figure comes from.
    annual_trips : float
        [trips/yr]
    bike_km : float
        [km/yr]
    avoided : pandas.DataFrame
        From :func:`avoided_emissions`. [t/yr]
    heat : HeatResult
        From :func:`heat_cycling`.
    """

    fleet: float
    fleet_basis: str
    annual_trips: float
    bike_km: float
    avoided: pd.DataFrame
    heat: HeatResult


@dataclass(frozen=True)
class Assessment:
    """Everything the bike-sharing workbook shows for one city.

    Attributes
    ----------
    sizing : pandas.DataFrame
        :func:`sizing_table` for the coverage area.
    layout : StationLayout
        Station grid of the planned coverage.
    existing : ExistingSystem
        The documented system.
    indicators : pandas.DataFrame
        :func:`system_indicators` of the documented system.
    trip_km : float
        [km]
    shares : pandas.Series
        Substitution shares. [-]
    demand : pandas.DataFrame
        :func:`demand_scenarios` for the planned fleet.
    plan : Outcome
        The planned fleet at the central use rate.
    observed : Outcome or None
        The documented system at its documented daily trips (None when not documented).
    density : float
        Population density of the coverage area the plan is sized for. [persons/km²]
    density_basis : str
        Where the density comes from.
    trips_per_bike_day : float
        The central use rate of the plan. [trips/bike/day]
    rate_basis : str
        Where the central use rate comes from.
    """

    sizing: pd.DataFrame
    layout: StationLayout
    existing: ExistingSystem
    indicators: pd.DataFrame
    trip_km: float
    shares: pd.Series
    demand: pd.DataFrame
    plan: Outcome
    observed: Outcome | None
    density: float = float("nan")
    density_basis: str = ""
    trips_per_bike_day: float = float("nan")
    rate_basis: str = ""


def central_trip_rate(existing: ExistingSystem, plan: Plan) -> tuple[float, str]:
    """The central use rate of a planned system and where it comes from.

    Parameters
    ----------
    existing : ExistingSystem
        The city's documented system.
    plan : Plan
        The planning ratios; ``plan.trips_per_bike_day`` is the rate without an
        observed one.

    Returns
    -------
    tuple
        (rate [trips/bike/day], basis).

    Notes
    -----
    A city that runs a system whose daily trips and fleet are both documented plans its
    next phase at the rate its riders already show, :math:`u = T_{day} / N_{bike}`, rather
    than at the ITDP benchmark (4–8), which describes world-class systems and is a
    target, not a forecast; otherwise the benchmark (or the parameter) stands.
    """
    observed = existing.trips_per_bike_day
    if plan.calibrate and math.isfinite(observed) and observed > 0:
        return observed, "observed: the city's documented daily trips ÷ documented bikes"
    return float(plan.trips_per_bike_day), "scenario setting (ITDP benchmark 4–8 a day)"


def coverage_density(city: pd.DataFrame, population: float, area_km2: float) -> tuple[float, str]:
    """Population density of the coverage area and where it comes from.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's bike-sharing inputs indexed by field (column ``value``).
    population : float
        City population. [persons]
    area_km2 : float
        City area. [km²]

    Returns
    -------
    tuple
        (density [persons/km²], basis): the city's ``coverage_density_per_km2`` input
        where given (the districts a first phase covers), else the city-wide average
        population ÷ area, which understates a dense core.
    """
    given = float(city["value"].get("coverage_density_per_km2", float("nan")))
    if math.isfinite(given) and given > 0:
        return given, "city input: population density of the districts covered"
    return population / area_km2, "city-wide average (population ÷ area): no district density"


def _outcome(
    fleet: float,
    basis: str,
    annual: float,
    city: pd.DataFrame,
    trip_km: float,
    shares: pd.Series,
    factors: tuple[pd.DataFrame, pd.Series, pd.Series],
    heat: dict[str, float],
) -> Outcome:
    v = city["value"]
    bike_km = annual * trip_km
    van_km = fleet * float(v["rebalancing_van_km_per_bike_yr"])
    vkm_factors, vkm_per_pkm, van = factors
    return Outcome(
        fleet=fleet,
        fleet_basis=basis,
        annual_trips=annual,
        bike_km=bike_km,
        avoided=avoided_emissions(bike_km, shares, vkm_factors, van_km, van, vkm_per_pkm),
        heat=heat_cycling(
            annual,
            float(v["trip_minutes"]),
            float(v["trips_per_user_week"]),
            float(v["mortality_rate_per_100k"]),
            float(v["vsl"]),
            **heat,
        ),
    )


def replaced_trip_factors(grid_ef: float) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """What :func:`avoided_emissions` needs besides the trips, for one grid factor.

    Parameters
    ----------
    grid_ef : float
        Grid CO2 factor. [kg CO2/kWh]

    Returns
    -------
    tuple
        (:func:`mode_vehicle_factors` [g/km], :func:`vehicle_km_per_pkm`
        [vehicle-km/pkm], the rebalancing van's factors [g/km]); read-only.
    """
    return _replaced_trip_factors(transport.mode_table, grid_ef)


@lru_cache(maxsize=32)
def _replaced_trip_factors(table_of, grid_ef: float):
    # once per grid factor and transport table (keyed on the function that reads the
    # table, so that a replaced table is read anew)
    van = transport.vehicle_factors(grid_ef).loc["van_diesel"]
    vkm_per_pkm = vehicle_km_per_pkm(transport.occupancy())
    return _mode_vehicle_factors(table_of, grid_ef), vkm_per_pkm, van


def assess_city(
    city: pd.DataFrame, population: float, area_km2: float, grid_ef: float, plan: Plan
) -> Assessment:
    """Size, demand, avoided emissions and health benefit for one city.

    Parameters
    ----------
    city : pandas.DataFrame
        The city's bike-sharing inputs indexed by field (column ``value``), e.g. the rows
        of :func:`c3lib.kit.casestudy.inputs` for one role.
    population : float
        City population. [persons]
    area_km2 : float
        City area; population ÷ area is the coverage density where the city gives no
        ``coverage_density_per_km2``. [km²]
    grid_ef : float
        Grid CO2 factor (electric modes among the replaced trips). [kg CO2/kWh]
    plan : Plan
        Planning ratios and the central use rate.

    Returns
    -------
    Assessment

    Notes
    -----
    The planned system covers ``coverage_area_km2`` at :func:`coverage_density` and is
    used at :func:`central_trip_rate` (the city's own observed rate where its system is
    documented). The documented system is assessed at its documented daily trips; when
    its fleet is not documented, the fleet that rebalancing scales with is estimated as
    daily trips ÷ the central use rate.
    """
    v = city["value"].astype(float)
    density, density_basis = coverage_density(city, population, area_km2)
    area = float(v["coverage_area_km2"])
    sizing = sizing_table(
        area, density, plan.stations_per_km2, plan.bikes_per_1000_residents, plan.docks_per_bike
    )
    existing = ExistingSystem(
        stations=float(v.get("existing_stations", float("nan"))),
        bikes=float(v.get("existing_bikes", float("nan"))),
        daily_trips=float(v.get("existing_daily_trips", float("nan"))),
    )
    rate, rate_basis = central_trip_rate(existing, plan)
    trip_km = trip_length_km(float(v["trip_minutes"]), float(v["cycling_speed_kmh"]))
    shares = substitution_shares(*(float(v[f"substitution_{m}"]) for m in SUBSTITUTED_MODES))
    factors = replaced_trip_factors(grid_ef)
    heat = heat_parameters()
    rates = trip_rate_scenarios()
    rates["central"] = rate
    bikes = float(sizing.loc["bikes", "plan"])
    demand = demand_scenarios(bikes, rates, trip_km)
    args = (city, trip_km, shares, factors, heat)
    planned = _outcome(bikes, "plan", float(demand.loc["central", "annual_trips"]), *args)
    observed = None
    if not math.isnan(existing.daily_trips):
        if math.isnan(existing.bikes):
            fleet = existing.daily_trips / plan.trips_per_bike_day
            basis = "estimated: documented daily trips ÷ central trips per bike per day"
        else:
            fleet, basis = existing.bikes, "documented"
        observed = _outcome(fleet, basis, existing.daily_trips * DAYS_PER_YEAR, *args)
    return Assessment(
        sizing=sizing,
        layout=station_layout(area, plan.stations_per_km2),
        existing=existing,
        indicators=system_indicators(existing, population, area_km2),
        trip_km=trip_km,
        shares=shares,
        demand=demand,
        plan=planned,
        observed=observed,
        density=density,
        density_basis=density_basis,
        trips_per_bike_day=rate,
        rate_basis=rate_basis,
    )
