"""Transport reference factors shared by the bike-sharing and low-emission workbooks.

One table, ``c3lib/data/transport_modes.csv``, holds every transport factor the two
workbooks use: fuel properties, exhaust factors per vehicle-km and the occupancy of
each passenger mode. This module turns it into factors per vehicle-km and per
passenger-km for PM2.5, NOx and CO2. Electric vehicles take their CO2 from the grid
factor of the city they run in; all factors are exhaust (tailpipe) only.

Vehicles (``VEHICLES``) are the things that drive; passenger modes (``MODES``) are how
people travel. A mode is served by a vehicle (a taxi is a petrol car with a taxi's
occupancy), listed in ``DEFAULT_VEHICLES``.

A city's road activity (:func:`road_vehicle_km`: fleet × distance per vehicle, from the
emissions-inventory inputs named in ``ROAD_FLEET``) is computed here once for the
emissions inventory and the low-emission workbook, so both start from one baseline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import pandas as pd

from c3lib.exceptions import ReferenceDataError
from c3lib.reference import reference_table

__all__ = [
    "POLLUTANTS",
    "MODES",
    "VEHICLES",
    "DEFAULT_VEHICLES",
    "BUS_BY_EURO_STAGE",
    "mode_table",
    "vehicle_factors",
    "occupancy",
    "passenger_factors",
    "bus_vehicle",
    "ROAD_FLEET",
    "road_vehicle_km",
]

POLLUTANTS = ("PM2.5", "NOx", "CO2")
MODES = ("car", "taxi", "motorcycle", "bus", "brt", "rail", "bicycle", "walk")
VEHICLES = (
    "car_petrol",
    "car_electric",
    "motorcycle_petrol",
    "motorcycle_electric",
    "bus_conventional",
    "bus_euro3",
    "bus_euro4",
    "bus_euro5",
    "bus_euro6",
    "bus_electric",
    "metro_train",
    "bicycle",
    "on_foot",
    "van_diesel",
)
DEFAULT_VEHICLES = {
    "car": "car_petrol",
    "taxi": "car_petrol",
    "motorcycle": "motorcycle_petrol",
    "bus": "bus_euro4",
    "brt": "bus_euro4",
    "rail": "metro_train",
    "bicycle": "bicycle",
    "walk": "on_foot",
}
BUS_BY_EURO_STAGE = {
    0: "bus_conventional",
    1: "bus_conventional",
    2: "bus_conventional",
    3: "bus_euro3",
    4: "bus_euro4",
    5: "bus_euro5",
    6: "bus_euro6",
}
_TABLE = "transport_modes"
#: road vehicle class → (fleet field [vehicles], distance field [km/yr]) of the
#: emissions-inventory inputs; cars include taxis (all registered passenger cars)
ROAD_FLEET = {
    "car": ("cars", "car_km_per_yr"),
    "motorcycle": ("motorcycles", "motorcycle_km_per_yr"),
    "light_truck": ("light_trucks", "light_truck_km_per_yr"),
    "bus": ("buses", "bus_km_per_yr"),
}


def road_vehicle_km(values: Mapping[str, float]) -> dict[str, float]:
    """Vehicle-km a year of each road vehicle class: fleet × distance per vehicle.

    Parameters
    ----------
    values : mapping
        Emissions-inventory inputs by field (:data:`ROAD_FLEET`): fleets [vehicles] and
        distances [km/yr].

    Returns
    -------
    dict
        Class (``car``, ``motorcycle``, ``light_truck``, ``bus``) → vehicle-km [km/yr];
        NaN where the fleet or the distance is missing (not estimated).
    """
    nan = float("nan")
    return {
        cls: float(values.get(fleet, nan)) * float(values.get(km, nan))
        for cls, (fleet, km) in ROAD_FLEET.items()
    }


def mode_table() -> pd.DataFrame:
    """The transport reference table (every row with its source and quality flag).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (fuel, vehicle or mode), ``item``, ``fuel``, ``quantity``,
        ``value``, ``unit``, ``source``, ``quality``, ``note``.
    """
    return reference_table(_TABLE)


_Rows = dict[tuple[str, str, str], list[tuple[float, str]]]


def _rows(df: pd.DataFrame) -> _Rows:
    """The mode table's rows by (kind, item, quantity): the value and unit of each."""
    rows: _Rows = {}
    cols = ("kind", "item", "quantity", "value", "unit")
    for kind, item, quantity, value, unit in zip(*(df[c] for c in cols), strict=True):
        rows.setdefault((kind, item, quantity), []).append((float(value), str(unit)))
    return rows


def _lookup(df: _Rows, kind: str, item: str, quantity: str) -> tuple[float, str] | None:
    hit = df.get((kind, item, quantity), [])
    if not hit:
        return None
    if len(hit) > 1:
        raise ReferenceDataError(f"{_TABLE}.csv: {kind} {item} {quantity} is given twice")
    return hit[0]


def _fuel_property(df: _Rows, fuel: str, quantity: str) -> float:
    got = _lookup(df, "fuel", fuel, quantity)
    if got is None:
        raise ReferenceDataError(f"{_TABLE}.csv: fuel {fuel!r} has no {quantity!r} row")
    return got[0]


def vehicle_factors(grid_ef: float) -> pd.DataFrame:
    """Exhaust emission factors per vehicle-km for every vehicle in the reference table.

    Parameters
    ----------
    grid_ef : float
        CO2 emission factor of the electricity the electric vehicles use. [kg CO2/kWh]

    Returns
    -------
    pandas.DataFrame
        Indexed by vehicle; columns ``PM2.5``, ``NOx``, ``CO2`` [g/km], ``fuel``,
        ``energy_mj_per_km`` [MJ/km] (final energy; for electric vehicles 3.6 MJ per kWh)
        and ``fuel_kg_per_km`` [kg/km] (0 for electric and human-powered vehicles).

    Raises
    ------
    ReferenceDataError
        A vehicle lacks the rows its factors need.

    Notes
    -----
    For a combustion vehicle with energy use :math:`e` [MJ/km] (given, or derived from
    a CO2 factor as :math:`e = CO2_{km} / CO2_{MJ}`), fuel use is
    :math:`m = e / NCV` [kg/km], CO2 is :math:`e \\cdot CO2_{MJ}`, and a factor given per
    kg of fuel becomes :math:`EF_{km} = EF_{kg} \\cdot m`. For an electric vehicle with
    consumption :math:`c` [kWh/km], :math:`CO2_{km} = 1000 \\cdot c \\cdot grid\\_ef`.

    References
    ----------
    .. [1] IPCC (2006) Guidelines for National Greenhouse Gas Inventories, Vol. 2 Ch. 3,
       Table 3.2.1 (fuel CO2 factors).
    .. [2] EEA (2019) EMEP/EEA air pollutant emission inventory guidebook, 1.A.3.b.
    """
    if not math.isfinite(grid_ef) or grid_ef < 0:
        raise ValueError(f"grid_ef must be a finite non-negative number, got {grid_ef!r}")
    return _vehicle_factors(mode_table, grid_ef).copy()


@lru_cache(maxsize=64)
def _vehicle_factors(table_of, grid_ef: float) -> pd.DataFrame:
    # once per grid factor and table (a scenario run asks hundreds of times); keyed on
    # the function that reads the table, so that a replaced table is read anew
    table = table_of()
    df = _rows(table)
    first_fuel: dict[str, str] = {}  # a vehicle's fuel: that of its first row
    vehicles = table[table["kind"] == "vehicle"]
    for item, fuel in zip(vehicles["item"], vehicles["fuel"], strict=True):
        first_fuel.setdefault(item, str(fuel))
    rows = {}
    for vehicle in VEHICLES:
        if vehicle not in first_fuel:
            raise ReferenceDataError(f"{_TABLE}.csv: vehicle {vehicle!r} has no rows")
        fuel = first_fuel[vehicle]
        energy = _lookup(df, "vehicle", vehicle, "energy")
        co2 = _lookup(df, "vehicle", vehicle, "CO2")
        out = {"fuel": fuel, "energy_mj_per_km": 0.0, "fuel_kg_per_km": 0.0}
        if fuel == "electricity":
            if energy is None or energy[1] != "kWh/km":
                raise ReferenceDataError(f"{_TABLE}.csv: {vehicle} needs an energy row in kWh/km")
            out["energy_mj_per_km"] = energy[0] * 3.6
            out["CO2"] = energy[0] * grid_ef * 1000.0
        elif fuel == "none":
            out["CO2"] = co2[0] if co2 else 0.0
        else:
            co2_per_mj = _fuel_property(df, fuel, "CO2")
            if energy is not None:
                mj = energy[0]
            elif co2 is not None:
                mj = co2[0] / co2_per_mj
            else:
                raise ReferenceDataError(f"{_TABLE}.csv: {vehicle} needs an energy or CO2 row")
            out["energy_mj_per_km"] = mj
            out["fuel_kg_per_km"] = mj / _fuel_property(df, fuel, "ncv")
            out["CO2"] = co2[0] if co2 is not None else mj * co2_per_mj
        for pollutant in ("PM2.5", "NOx"):
            got = _lookup(df, "vehicle", vehicle, pollutant)
            if got is None:
                raise ReferenceDataError(f"{_TABLE}.csv: {vehicle} has no {pollutant} row")
            value, unit = got
            if unit == "g/km":
                out[pollutant] = value
            elif unit == "g/kg":
                out[pollutant] = value * out["fuel_kg_per_km"]
            else:
                raise ReferenceDataError(f"{_TABLE}.csv: {vehicle} {pollutant} unit {unit!r}")
        rows[vehicle] = out
    cols = [*POLLUTANTS, "fuel", "energy_mj_per_km", "fuel_kg_per_km"]
    return pd.DataFrame.from_dict(rows, orient="index")[cols].rename_axis("vehicle")


def occupancy() -> pd.Series:
    """Effective occupancy of each passenger mode: persons per vehicle-km.

    Returns
    -------
    pandas.Series
        Indexed by mode. [persons/vehicle]

    Notes
    -----
    For a taxi, :math:`o_{eff} = o \\cdot (1 - s_{empty})`, where :math:`s_{empty}` is the
    share of taxi-km driven empty; for every other mode the occupancy as given.
    """
    df = _rows(mode_table())
    out = {}
    for mode in MODES:
        got = _lookup(df, "mode", mode, "occupancy")
        if got is None:
            raise ReferenceDataError(f"{_TABLE}.csv: mode {mode!r} has no occupancy row")
        empty = _lookup(df, "mode", mode, "empty_share")
        out[mode] = got[0] * (1.0 - (empty[0] if empty else 0.0))
    return pd.Series(out, name="occupancy").rename_axis("mode")


def passenger_factors(grid_ef: float, vehicles: dict[str, str] | None = None) -> pd.DataFrame:
    """Exhaust emission factors per passenger-km for every passenger mode.

    Parameters
    ----------
    grid_ef : float
        CO2 emission factor of the city's electricity. [kg CO2/kWh]
    vehicles : dict, optional
        Vehicle serving each mode (default :data:`DEFAULT_VEHICLES`); modes not named
        keep their default vehicle.

    Returns
    -------
    pandas.DataFrame
        Indexed by mode; columns ``PM2.5``, ``NOx``, ``CO2`` [g/pkm], ``vehicle`` and
        ``occupancy`` [persons/vehicle].

    Notes
    -----
    :math:`EF_{pkm} = EF_{vkm} / o_{eff}` (bus g/km ÷ occupancy).
    """
    chosen = {**DEFAULT_VEHICLES, **(vehicles or {})}
    unknown = set(chosen) - set(MODES)
    if unknown:
        raise KeyError(f"unknown mode(s) {sorted(unknown)}; modes are {MODES}")
    vkm = vehicle_factors(grid_ef)
    occ = occupancy()
    rows = {}
    for mode in MODES:
        vehicle = chosen[mode]
        if vehicle not in vkm.index:
            raise KeyError(f"unknown vehicle {vehicle!r} for mode {mode!r}")
        rows[mode] = {p: vkm.loc[vehicle, p] / occ[mode] for p in POLLUTANTS}
        rows[mode] |= {"vehicle": vehicle, "occupancy": occ[mode]}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("mode")


def bus_vehicle(euro_stage: float) -> str:
    """The diesel city-bus vehicle for a Euro stage (0–2 read as pre-Euro III "conventional").

    Parameters
    ----------
    euro_stage : float
        Euro emission stage of the diesel bus fleet, 0 (pre-Euro) to 6. [-]

    Returns
    -------
    str
        A vehicle of :data:`VEHICLES` (``bus_conventional``, ``bus_euro3`` … ``bus_euro6``).
    """
    stage = int(round(euro_stage))
    if stage not in BUS_BY_EURO_STAGE:
        raise ValueError(f"Euro stage must be 0–6, got {euro_stage!r}")
    return BUS_BY_EURO_STAGE[stage]
