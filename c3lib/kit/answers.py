"""The workbooks' exercises: the givens a learner works from and the expected answer.

Each exercise is registered under an id (``<action>/<what>``) with a function of the case
(and of the objects the workbook built from its parameters cell) that returns a
:class:`Worked`: the givens table, a note and the expected value, computed by the topic
models. The notebook only names the exercise, so its cells show no formula, and each
exercise asks for a variant (a first phase, another setting) that no table or figure
above it shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from c3lib.exceptions import C3Error
from c3lib.kit import casestudy as cs

__all__ = ["EXERCISES", "Exercise", "Worked", "work"]

LEARNING = "learning"


@dataclass(frozen=True)
class Worked:
    """One exercise for one case.

    Attributes
    ----------
    givens : pandas.DataFrame
        What the learner works from, rows by code name (reader labels applied on display).
    caption : str
        Caption of the givens table.
    note : str
        A sentence shown under the table (the variant the exercise asks about).
    expected : float
        The solution, never displayed. [the exercise's unit]
    """

    givens: pd.DataFrame
    caption: str
    note: str
    expected: float


@dataclass(frozen=True)
class Exercise:
    """A registered exercise: its unit, tolerance, hint and how to work it for a case."""

    id: str
    unit: str
    hint: str
    work: Callable[..., Worked]
    rel_tol: float = 0.02


def _rows(case: cs.Case, role: str = LEARNING) -> pd.DataFrame:
    inputs = cs.inputs(case)
    return inputs[inputs["role"] == role].set_index("field")


def _label(case: cs.Case, role: str = LEARNING) -> str:
    return f"{case.cities[role].name} ({role})"


# --- bike-sharing ------------------------------------------------------------------------

FIRST_PHASE_SHARE = 0.5  # a first phase: half the planned fleet, to the nearest 10 bikes


def _bike_car_km(case: cs.Case, plan) -> Worked:
    from c3lib.topics.bikeshare import model as bs
    from c3lib.topics.transport.model import occupancy

    p = cs.profiles(case)[LEARNING]
    a = bs.assess_city(_rows(case), p["population"], p["area_km2"], p["grid_ef"], plan)
    bikes = max(10, 10 * round(FIRST_PHASE_SHARE * a.plan.fleet / 10))
    vkm_per_pkm = bs.vehicle_km_per_pkm(occupancy())
    car_occupancy = 1.0 / float(vkm_per_pkm["car"])  # persons per car credited
    bike_km = bs.annual_trips(bikes, a.trips_per_bike_day) * a.trip_km
    avoided = bs.avoided_activity(bike_km, a.shares, vkm_per_pkm)
    givens = pd.DataFrame(
        {
            "value": [
                bikes,
                a.trips_per_bike_day,
                a.trip_km,
                float(a.shares["car"]),
                car_occupancy,
            ]
        },
        index=["bikes", "trips_per_bike_day", "trip_km", "car_share", "car_occupancy"],
    )
    return Worked(
        givens,
        f"{_label(case)}: a first phase of the planned system",
        f"A first phase puts {bikes:,} bikes on the street, about half the planned fleet, "
        "at the central use rate.",
        float(avoided.loc["car", "vehicle_km"]),
    )


# --- emissions inventory -----------------------------------------------------------------

FILTER_CUT = 0.4  # exhaust PM cut by particulate filters and inspection in the exercise


def _road_pm25_with_filters(case: cs.Case) -> Worked:
    from c3lib.topics.inventory import model as inv

    values = _rows(case)["value"].to_dict()
    fuel = inv.vehicle_activity(values)["fuel_kg"]
    ef = inv.emission_factors().query("sector == 'road-transport' and pollutant == 'PM2.5'")
    lines = inv.city_lines(values, None, 1.0, {"road-transport": FILTER_CUT})
    expected = inv.sector_totals(lines).loc["road-transport", "PM2.5"]
    givens = pd.DataFrame(
        {"fuel_kg": fuel, "pm25_ef_g_kg": ef.set_index("subsector")["ef"].reindex(fuel.index)}
    ).rename_axis("vehicle class")
    return Worked(
        givens,
        f"{_label(case)}: fuel burned by each vehicle class and its PM2.5 factor",
        f"Particulate filters and inspection cut road-transport exhaust PM2.5 by {FILTER_CUT:.0%}.",
        float(expected),
    )


# --- commercial cooking ------------------------------------------------------------------

FOOD_STREET_DEVICES = 20  # under-fired charbroilers on the exercise's food street


def _food_street_pm25(case: cs.Case, settings) -> Worked:
    from c3lib.topics.cooking import model as cooking

    city = case.cities[LEARNING]
    a = cooking.assess_city(_rows(case), city.country, settings)
    ef = cooking.emission_factors()
    pm = ef[(ef["device"] == "underfired") & (ef["pollutant"] == "PM2.5")].set_index("food")
    # the survey meat per device, scaled by the city's meat balance as the model scales it
    k = a.balance.scale if a.balance is not None else 1.0
    food = cooking.food_per_device().xs("underfired", level="device") * k
    givens = pd.DataFrame(
        {"food_short_ton_yr": food / cooking.KG_PER_SHORT_TON, "pm25_g_kg": pm["value"]}
    ).rename_axis("food")
    inv = a.inventory
    city_pm = inv[(inv["device"] == "underfired") & (inv["pollutant"] == "PM2.5")]
    devices = float(a.devices.xs("underfired", level="device").sum())
    if devices > 0:  # the model's own inventory, per device
        per_device = float(city_pm["emissions"].sum()) / devices
    else:
        per_device = float((food * pm["value"].reindex(food.index)).sum()) / 1e6
    return Worked(
        givens,
        "Under-fired charbroilers: food cooked per device (the survey scaled by the city's "
        "meat balance) and PM2.5 factor",
        f"A food street in {city.name} has {FOOD_STREET_DEVICES} under-fired charbroilers, "
        "uncontrolled. 1 short ton = 907.18474 kg.",
        FOOD_STREET_DEVICES * per_device,
    )


# --- low-emission development ------------------------------------------------------------

CAR_SHIFT = 0.25  # share of car passenger-km moved to other modes in the exercise


def _car_co2_after_shift(case: cs.Case) -> Worked:
    from c3lib.topics.transport.model import passenger_factors
    from c3lib.topics.urban import model as urban

    p = cs.profiles(case)[LEARNING]
    city = urban.city_transport(_rows(case), p["population"], p["grid_ef"])
    shares = city.shares.copy()
    shares["car"] = shares["car"] * (1 - CAR_SHIFT)
    after = urban.asif(dataclasses.replace(city, shares=shares))
    givens = pd.DataFrame(
        {
            "value": [
                city.population,
                city.pkm_per_capita,
                float(city.shares["car"]),
                CAR_SHIFT,
                float(passenger_factors(city.grid_ef).loc["car", "CO2"]),
            ]
        },
        index=["population", "pkm_per_capita_yr", "share_car", "car_shift", "car_co2_g_pkm"],
    )
    return Worked(
        givens,
        f"{_label(case)}: inputs for the exercise",
        f"A plan moves {CAR_SHIFT:.0%} of car passenger-km to buses, rail, cycling and walking "
        "(base year, no growth).",
        float(after.loc["car", "CO2"]),
    )


# --- port operations ---------------------------------------------------------------------


def _berth_aux_nox(case: cs.Case, port: dict, factors) -> Worked:
    from c3lib.topics.ports import model as ports
    from c3lib.topics.ports import views as port_views

    role = next((r for r in (LEARNING, "mentor") if port[r].has_port), LEARNING)
    givens = port_views.exercise_givens(port[role], factors=factors)
    return Worked(
        givens.drop(columns=["what"], errors="ignore"),
        f"Exercise data: one call at {port_views.port_label(port[role])}",
        "One call of a 3,000–5,000 TEU container ship, at berth, with no shore power.",
        float(ports.berth_aux_per_call(port[role], factors=factors)),
    )


EXERCISES: dict[str, Exercise] = {
    e.id: e
    for e in (
        Exercise(
            "bike-sharing/car-km-first-phase",
            "km/yr",
            "multiply bikes, trips per bike per day, 365, trip length and car share, "
            "then divide by the persons per car",
            _bike_car_km,
        ),
        Exercise(
            "emissions-inventory/road-pm25-with-filters",
            "t/yr",
            "fuel [kg/yr] × factor [g/kg] gives grams; add the four classes, divide by "
            "1,000,000, then keep the part the filters leave",
            _road_pm25_with_filters,
        ),
        Exercise(
            "commercial-cooking/food-street-pm25",
            "t/yr",
            "multiply short tons by 907.18474 to get kg, kg by g/kg to get g, add the foods, "
            "multiply by the number of charbroilers and divide by 1,000,000 for tonnes",
            _food_street_pm25,
        ),
        Exercise(
            "low-emission-development/car-co2-after-shift",
            "t/yr",
            "population × passenger-km per capita × car share × the part not shifted × "
            "g/pkm, then divide by one million (grams to tonnes)",
            _car_co2_after_shift,
        ),
        Exercise(
            "port-operations/berth-aux-nox",
            "kg",
            "multiply the load [kW] by the hours [h] to get kWh, then by g/kWh, and divide by 1000",
            _berth_aux_nox,
        ),
    )
}


_LAST: list = []  # (key, Worked) of the last call; the key holds its objects, not their ids


def work(exercise_id: str, case: cs.Case, **settings) -> tuple[Exercise, Worked]:
    """The registered exercise and its givens and answer for ``case``.

    Parameters
    ----------
    exercise_id : str
        A key of :data:`EXERCISES`.
    case : Case
        The run.
    **settings
        What the exercise needs from the workbook's parameters cell (e.g. ``plan``).

    Raises
    ------
    C3Error
        Unknown exercise id.
    """
    try:
        exercise = EXERCISES[exercise_id]
    except KeyError:
        known = ", ".join(EXERCISES)
        raise C3Error(f"unknown exercise {exercise_id!r}; known: {known}") from None
    key = (case, *(x for kv in sorted(settings.items()) for x in kv))
    last = _LAST[0] if _LAST else None
    if (
        last
        and last[0] == exercise_id
        and len(last[1]) == len(key)
        and all(a is b or a == b and isinstance(a, str) for a, b in zip(last[1], key, strict=True))
    ):
        return exercise, _LAST[1]  # the check cell right after the givens cell
    worked = exercise.work(case, **settings)
    _LAST[:] = [(exercise_id, key), worked]
    return exercise, worked
