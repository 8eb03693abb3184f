"""Scenario discovery: in which combinations of conditions does the partnership fail?

A Monte Carlo over the scenario's uncertain inputs (the same replications as `collabsim run`
with the same seed) gives, per run, the conditions it faced and whether it failed. PRIM, the
Patient Rule Induction Method (Friedman & Fisher 1999) as implemented in the EMA Workbench
(Kwakkel 2017), then peels the space of conditions down to boxes where failures concentrate:

* coverage: the share of all failures that fall inside the box;
* density: the share of runs inside the box that fail;
* mass: the share of all runs inside the box.

Peeling trades coverage for density; the box reported is the knee of that trade-off (see
find_boxes), or, when a `density` is asked for, the highest-coverage box at least that dense.
Further boxes are found the same way among the runs the earlier boxes leave out.

Conditions are the sampled inputs (partners' traits, charter clauses, shock rates) and, since
"what happened" matters as much as "what was assumed", how many times each kind of shock struck
the run. For a `population` scenario, whose partners are interchangeable, each trait enters as
its lowest, mean and highest value across the partners.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import default_chunk_size, workers_for
from sim.montecarlo.runs import chunks_of
from sim.partnership.engine import run_batch
from sim.partnership.inputs import BENEFITS, uncertain_paths
from sim.partnership.outcomes import vector_outcomes
from sim.scenario.fields import CHARTER_NUMBERS, split_partner
from sim.scenario.loading import as_scenario
from sim.scenario.schema import Scenario

FAILURES = {
    "not_delivered": "fall short of the business case",
    "dissolved": "dissolve",
    "any_exit": "lose a partner",
}
#: Smallest share of runs a box may hold (PRIM's mass_min).
MASS_MIN = 0.05
#: Smallest normalised lift (d - b) / (1 - b) of a reported box: its runs must fail at least a
#: quarter of the way from the overall rate b to certainty.
MIN_LIFT = 0.25


# --- the conditions each run faced ------------------------------------------------------------


def _input_columns(scenario: Scenario, inputs) -> dict[str, np.ndarray]:
    """The value each uncertain input took in each run, by path (priorities and vision as the
    normalised weights the model uses)."""
    names = scenario.partner_names()
    slot = {n: i for i, n in enumerate(names)}
    sampled = dict(zip(inputs.input_paths, np.asarray(inputs.sampled).T))
    columns = {}
    for path in uncertain_paths(scenario):
        head, _, rest = path.partition(".")
        if head == "partner_similarity":  # the partnership-wide quantile of a trait
            columns[path] = sampled[path]
            continue
        if head == "partners":
            name, field_ = split_partner(rest, names)
            if field_.startswith("priorities."):
                b = BENEFITS.index(field_.split(".", 1)[1])
                columns[path] = inputs.priorities[:, slot[name], b]
            else:
                columns[path] = inputs.traits[field_][:, slot[name]]
        elif head == "charter":
            columns[path] = _charter_value(inputs, rest)
        else:  # shocks[i].rate / shocks[i].magnitude
            columns[path] = sampled[path]
    return columns


#: Each charter number's name among the sampled inputs (the table in sim.scenario.fields).
_CHARTER_FIELDS = dict(CHARTER_NUMBERS)


def _charter_value(inputs, rest: str) -> np.ndarray:
    if rest.startswith("vision."):
        return inputs.vision[:, BENEFITS.index(rest.split(".", 1)[1])]
    return np.asarray(getattr(inputs, _CHARTER_FIELDS[rest]), dtype=float)


def conditions_frame(scenario: Scenario, run) -> pd.DataFrame:
    """One row per run of a VectorRun: its sampled inputs and the shocks that struck it (and,
    with a posterior, the behavioural constants it ran with)."""
    if run.parts:      # each particle's replications are a run of their own
        table = pd.concat([conditions_frame(scenario, part) for _, part in run.parts],
                          ignore_index=True)
        position = np.empty(len(table), dtype=np.int64)
        position[np.concatenate([rows for rows, _ in run.parts])] = np.arange(len(table))
        return table.iloc[position].reset_index(drop=True)
    columns = _input_columns(scenario, run.inputs)
    if scenario.population is not None:  # interchangeable partners: summarise across them
        prefix = scenario.population.name_prefix
        per_partner = {}
        for path in list(columns):
            if path.startswith("partners."):
                field_ = split_partner(path[len("partners."):], scenario.partner_names())[1]
                per_partner.setdefault(field_, []).append(columns.pop(path))
        summary = {}
        for field_, values in per_partner.items():
            if field_.startswith("priorities."):
                continue  # nine weights per partner: alignment, not a condition to act on
            stack = np.column_stack(values)
            for how, fn in (("min", np.min), ("mean", np.mean), ("max", np.max)):
                summary[f"{prefix}s {how} {field_}"] = fn(stack, axis=1)
        columns = {**summary, **columns}
    R = len(run.replications)
    for kind in sorted({kind for _, kind, _ in run.shock_events} |
                       {s.kind for s in scenario.shocks}):
        count = np.zeros(R)
        for _, k, who in run.shock_events:
            if k == kind:
                count += who if who.ndim == 1 else who.sum(axis=1)
        columns[f"{kind} shocks (count)"] = count
    for path, value in (run.particle or {}).items():
        if path != "particle":
            columns[path] = np.full(R, value)
    return pd.DataFrame(columns)


def discovery_chunk(scenario: Scenario, seed: int, replications: range):
    """Conditions and outcomes of some replications (a top-level function for executors)."""

    reps = np.arange(replications.start, replications.stop)
    run = run_batch(scenario, seed, reps)
    outcomes = vector_outcomes(run)[["replication", "delivered", "dissolved", "exits",
                                     "savings_pct", "status"]]
    return conditions_frame(scenario, run), outcomes


# --- PRIM -------------------------------------------------------------------------------------


@dataclass
class Box:
    """One box of conditions where failures concentrate."""

    number: int
    limits: pd.DataFrame         # restricted conditions: low, high, full range, quasi-p
    coverage: float
    density: float
    mass: float
    runs: int
    trajectory: pd.DataFrame     # PRIM's peeling trajectory (coverage, density, mass, res_dim)
    chosen: int                  # the trajectory step reported

    def rule(self) -> str:
        """The box as a plain rule: conditions joined by AND."""
        return " AND ".join(condition_text(r) for _, r in self.limits.iterrows()) or "always"


def condition_text(row) -> str:
    lo_open = row["low"] <= row["range_low"]
    hi_open = row["high"] >= row["range_high"]
    if lo_open and not hi_open:
        return f"{row['condition']} <= {row['high']:.3g}"
    if hi_open and not lo_open:
        return f"{row['condition']} >= {row['low']:.3g}"
    return f"{row['low']:.3g} <= {row['condition']} <= {row['high']:.3g}"


def find_boxes(X: pd.DataFrame, failed: np.ndarray, *, density: Optional[float] = None,
               boxes: int = 2) -> tuple[list[Box], float]:
    """PRIM boxes where `failed` concentrates (EMA Workbench). Constant conditions are left out.

    Which box on a peeling trajectory: with `density` given, the highest-coverage box at least
    that dense (never less than the MIN_LIFT floor below); by default the knee of the trade-off,
    the box that maximises coverage x
    normalised lift, coverage (d - b) / (1 - b) for density d and overall failure rate b (it
    prefers neither a loose box that holds every failure nor a tiny pure one). A box whose
    normalised lift is below MIN_LIFT is not reported: failure does not concentrate there.
    Returns the boxes and the least density a box needed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the workbench warns about optional extras it lacks
        from ema_workbench.analysis import prim

    failed = np.asarray(failed, dtype=bool)
    varying = [c for c in X.columns if X[c].nunique() > 1]
    X = X[varying].astype(float).reset_index(drop=True)
    base = float(failed.mean())
    floor = base + MIN_LIFT * (1 - base)
    if density is not None:
        floor = max(floor, float(density))
    if not 0 < base < 1 or not varying:
        return [], floor
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(X, failed.astype(int), threshold=floor, peel_alpha=0.05,
                           paste_alpha=0.05, mass_min=MASS_MIN)
        for number in range(1, boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            dense = traj[(traj["density"] >= floor) & (traj["res_dim"] > 0)]
            if dense.empty:
                break
            if density is None:
                score = dense["coverage"] * (dense["density"] - base) / (1 - base)
                i = int(score.idxmax())
            else:
                i = int(dense.sort_values(["coverage", "res_dim"], ascending=[False, True])
                        .index[0])
            box.select(i)
            found.append(_box(number, box, i, X, traj))
    return found, floor


def _box(number: int, box, i: int, X: pd.DataFrame, traj: pd.DataFrame) -> Box:
    lims = box.box_lims[i]
    qp = box.qp[i] if i < len(box.qp) else {}
    rows = []
    for c in X.columns:
        lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        full_lo, full_hi = float(X[c].min()), float(X[c].max())
        if lo > full_lo or hi < full_hi:
            p = [v for v in qp.get(c, []) if v is not None and v >= 0]
            rows.append({"condition": c, "low": lo, "high": hi, "range_low": full_lo,
                         "range_high": full_hi, "quasi_p": max(p) if p else np.nan})
    point = traj.loc[i]
    return Box(number, pd.DataFrame(rows), float(point["coverage"]), float(point["density"]),
               float(point["mass"]), int(point["n"]), traj.copy(), i)


# --- the whole job ----------------------------------------------------------------------------


@dataclass
class Discovery:
    scenario: Scenario
    failure: str
    base_rate: float
    density_floor: float         # the least density a reported box needed
    boxes: list[Box]
    conditions: pd.DataFrame     # per replication: the conditions and the outcome
    message: str
    settings: dict
    notes: list = field(default_factory=list)

    @property
    def tables(self) -> dict:
        """Every run's conditions, and each box's limits and peeling trajectory."""
        tables = {"conditions": self.conditions}
        for b in self.boxes:
            tables[f"box-{b.number}-limits"] = b.limits
            tables[f"box-{b.number}-trajectory"] = b.trajectory
        return tables

    @property
    def summary(self) -> dict:
        return {
            "failure": self.failure, "base_rate": self.base_rate,
            "density_floor": self.density_floor, "message": self.message,
            "boxes": [{"box": b.number, "rule": b.rule(), "coverage": b.coverage,
                       "density": b.density, "mass": b.mass, "runs": b.runs,
                       "limits": files.json_records(b.limits)} for b in self.boxes],
            "headline": [["failure", f"{self.base_rate:.1%} of runs {FAILURES[self.failure]}"],
                         *[[f"box {b.number}", f"{b.rule()} (coverage {b.coverage:.0%}, "
                            f"density {b.density:.0%}, mass {b.mass:.0%})"]
                           for b in self.boxes]] or [["boxes", self.message]],
        }


def discover(scenario, *, replications: int = 5000, failure: str = "not_delivered",
             density: Optional[float] = None, boxes: int = 2, seed: Optional[int] = None,
             executor: Optional[Executor] = None) -> Discovery:
    """Run `replications` of the scenario (where `executor` says; progress in replications)
    and find up to `boxes` boxes of conditions where `failure` concentrates (see the module
    docstring)."""

    executor = as_executor(executor)
    sc = as_scenario(scenario)
    if failure not in FAILURES:
        raise ValueError(f"failure must be one of {', '.join(FAILURES)}, got {failure!r}")
    if replications < 100:
        raise ValueError("replications must be at least 100 for PRIM to peel anything")
    if boxes < 1:
        raise ValueError("boxes must be at least 1")
    if density is not None and not 0 < density <= 1:
        raise ValueError(f"density {density}: must be in (0, 1]")
    seed = sc.seed if seed is None else int(seed)
    size = default_chunk_size(sc, "vector")
    executor = executor.at_most(workers_for(sc, "vector", size, executor.workers))
    chunks = chunks_of(replications, size)
    tasks = {k: (discovery_chunk, (sc, seed, c)) for k, c in enumerate(chunks)}
    parts = executor.gather(tasks, {k: len(c) for k, c in enumerate(chunks)})
    X = pd.concat([parts[k][0] for k in range(len(chunks))], ignore_index=True)
    outcomes = pd.concat([parts[k][1] for k in range(len(chunks))], ignore_index=True)
    failed = {"not_delivered": ~outcomes["delivered"], "dissolved": outcomes["dissolved"],
              "any_exit": outcomes["exits"] > 0}[failure].to_numpy(bool)
    notes = []
    if not uncertain_paths(sc):
        notes.append("the scenario has no uncertain inputs: only the shocks that struck can "
                     "explain failure")
    found, floor = find_boxes(X, failed, density=density, boxes=boxes)
    if density is not None and floor > density:
        notes.append(f"--density {density:g} is close to the overall rate ({failed.mean():.0%}); "
                     f"boxes had to reach {floor:.0%} to count as a concentration of failures")
    base = float(failed.mean())
    what = FAILURES[failure]
    if base in (0.0, 1.0):
        message = (f"{'all' if base else 'none'} of {replications} runs {what}: there is no "
                   "region to find")
    elif not found:
        message = (f"no box of conditions where at least {floor:.0%} of runs {what} (against "
                   f"{base:.0%} overall): failure is spread across the conditions")
    else:
        message = "; ".join(f"box {b.number}: {b.density:.0%} of runs {what} when {b.rule()} "
                            f"(against {base:.0%} overall; the box holds {b.coverage:.0%} of "
                            f"those runs and {b.mass:.0%} of all runs)" for b in found)
    table = X.assign(**{c: outcomes[c] for c in outcomes.columns}, failed=failed)
    settings = {"replications": replications, "failure": failure, "density": density,
                "boxes": boxes, "seed": seed}
    return Discovery(sc, failure, base, floor, found, table, message, settings, notes)

