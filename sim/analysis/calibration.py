"""Pattern-oriented calibration (Grimm et al. 2005): fit constants of the model to the
`calibrate` patterns of a register with ABC-SMC (sim.analysis.abc, on pyabc), then check the
posterior
against every pattern, the `validate` ones out of sample.

    result = calibrate("patterns/public_sector.yaml", ["planned_capacity", "run_ceiling"])
    result.contraction      # how far the evidence narrowed each constant
    result.patterns         # each pattern's pass rate under the posterior, and at the defaults
    result.conflicts        # patterns that pull against each other

A parameter is any field path (sim.scenario.fields) with a uniform prior: `NAME` for the model
constant
`parameters.NAME`, `PATH=LOW:HIGH` for a range of one's own. A bare NAME's prior spans half to
one and a half times the scenario's value, within the constant's allowed range.

For each candidate, the register's `calibrate` patterns are evaluated on `replications` runs of
each scenario they need (sim.analysis.patterns.evaluate_register, common random numbers from the
candidate's own seed); a candidate's distance is the implausibility of the patterns it misses:
how far each statistic lies outside its target (widened by the target's stated uncertainty), in
units of the statistic's own Monte Carlo standard error, squared and summed.

The posterior predictive check draws `predictive` parameter sets from the posterior and
evaluates the whole register for each on `predictive_replications` runs (more than a
candidate's, so that a pass rate reflects what the constants leave open rather than Monte Carlo
noise), on fresh seeds: a pattern's pass rate is the share of draws that reproduce it. The
defaults are evaluated the same way, for comparison. Two patterns conflict when passing one makes
passing the other less
likely across the draws (phi coefficient below -0.2, both passing in 5-95% of draws).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from sim.analysis.abc import SE, AbcResult, Prior, Target, parse_prior, run_abc
from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.scenario.fields import field_of
from sim.scenario.loading import ScenarioError
from sim.scenario.parameters import ModelParameters

#: Conflicts: phi coefficients below this, between patterns both passing in CONTESTED of draws.
CONFLICT_PHI = -0.2
CONTESTED = (0.05, 0.95)
#: The share of posterior-predictive draws a `calibrate` pattern should pass in (issue 13).
PASS_GOAL = 0.8


@dataclass
class Calibration:
    """What a calibration found (see the module's doc)."""

    abc: AbcResult
    contraction: pd.DataFrame     # per parameter: prior, posterior summary, contraction
    patterns: pd.DataFrame        # per pattern: role, pass rate under the posterior and defaults
    predictive: pd.DataFrame      # per draw and pattern: parameter values, value, reproduced
    conflicts: pd.DataFrame       # pairs of patterns that pull against each other
    settings: dict = field(default_factory=dict)

    @property
    def posterior(self) -> pd.DataFrame:
        return self.abc.posterior

    @property
    def tables(self) -> dict:
        return {"posterior": self.posterior, "contraction": self.contraction,
                "patterns": self.patterns, "predictive": self.predictive,
                "conflicts": self.conflicts, "generations": self.abc.generations}

    @property
    def message(self) -> str:
        """How many calibrate and validate patterns the posterior reproduces."""
        s = self.summary
        return (f"the posterior reproduces {s['calibrate_passing_80pct']} of "
                f"{s['calibrate_patterns']} calibrate and {s['validate_passing_80pct']} of "
                f"{s['validate_patterns']} validate patterns in at least {PASS_GOAL:.0%} of draws")

    @property
    def summary(self) -> dict:
        cal = self.patterns[self.patterns["role"] == "calibrate"]
        val = self.patterns[self.patterns["role"] == "validate"]
        return {
            "parameters": files.json_records(self.contraction),
            "calibrate_patterns": len(cal),
            "calibrate_passing_80pct": int((cal["pass_rate"] >= PASS_GOAL).sum()),
            "validate_patterns": len(val),
            "validate_passing_80pct": int((val["pass_rate"] >= PASS_GOAL).sum()),
            "not_identified": list(self.contraction.loc[
                self.contraction["contraction"] < IDENTIFIED, "parameter"]),
            "conflicts": len(self.conflicts),
            "generations": len(self.abc.generations),
            "final_epsilon": float(self.abc.generations["epsilon"].iloc[-1]),
        }


#: A parameter whose posterior variance is not at least this much below its prior's is
#: reported as not identified by the register (Carrella 2021: say which are not).
IDENTIFIED = 0.5


def default_range(path: str, scenario) -> tuple[float, float]:
    """A bare constant's prior: half to one and a half times its value, within its allowed
    range (the whole allowed range for a constant at 0)."""

    name = path.split(".", 1)[1] if path.startswith("parameters.") else None
    value = float(scenario.value_of(path))
    low, high = -math.inf, math.inf
    if name in ModelParameters.model_fields:
        for m in ModelParameters.model_fields[name].metadata:
            low = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else low
            high = getattr(m, "le", None) if getattr(m, "le", None) is not None else high
    if value == 0:
        if math.isfinite(low) and math.isfinite(high):
            return low, high
        raise ValueError(f"{path}: is 0 and has no bounded range; give {path}=LOW:HIGH")
    a, b = sorted((0.5 * value, 1.5 * value))
    return max(a, low), min(b, high)


def priors_for(register, texts: Sequence[str]) -> list[Prior]:
    """Parse `NAME` / `PATH=LOW:HIGH` against the register's scenarios: every path must be a
    number field of every scenario a calibrate pattern runs on (ScenarioError naming it)."""

    scenarios = [p.scenario for p in register.patterns if p.role == "calibrate"]
    if not scenarios:
        raise ScenarioError(register.source, ["no pattern has role: calibrate"])
    problems, priors = [], []
    for text in texts:
        try:
            prior = parse_prior(text, lambda path: default_range(path, scenarios[0]))
            for sc in scenarios:
                f = field_of(sc, prior.path, "--parameters")
                if f.kind != "number":
                    raise ValueError(f"{prior.path}: a {f.kind}; only numbers can be "
                                     "calibrated")
            priors.append(prior)
        except ScenarioError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(str(exc))
    if len({p.path for p in priors}) < len(priors):
        problems.append("a parameter is given twice")
    if not texts:
        problems.append("name at least one parameter")
    if problems:
        raise ScenarioError("--parameters", problems)
    return priors


def targets_of(register) -> dict[str, Target]:
    """The ABC target of each calibrate pattern: its interval widened by its uncertainty (strict
    bounds as inclusive: a miss of no width costs nothing), misses in units of the statistic's
    own standard error."""
    out = {}
    for p in register.patterns:
        if p.role == "calibrate":
            t = p.target
            out[p.name] = Target(t.lower()[0] - t.uncertainty, t.upper()[0] + t.uncertainty)
    return out


def statistics(register, replications: int, values: dict, seed: int) -> dict:
    """Every pattern's statistic of `register` at `values` (field paths), with its standard
    error under NAME + SE (a top-level function: candidates run on workers)."""
    from sim.analysis.patterns.evaluate import evaluate_register

    table = evaluate_register(register, replications=replications, seed=seed, parameters=values)
    stats = {}
    for _, row in table.iterrows():
        stats[row["name"]] = float(row["value"])
        stats[row["name"] + SE] = float(row["ci_high"] - row["ci_low"]) / (2 * 1.959964)
    return stats


def _calibrate_only(register):
    return dataclasses.replace(register, patterns=[p for p in register.patterns
                                                   if p.role == "calibrate"])


def predictive_draw(register_blob: bytes, replications: int, values: dict,
                    seed: int) -> pd.DataFrame:
    """The whole register at one parameter set (a top-level function for executors; the
    register travels cloudpickled, as its statistics are closures)."""
    import cloudpickle

    from sim.analysis.patterns.evaluate import evaluate_register

    register = cloudpickle.loads(register_blob)
    table = evaluate_register(register, replications=replications, seed=seed,
                              parameters=values or None)
    return table[["name", "role", "value", "reproduced"]]


def calibrate(register, parameters: Sequence[str], *, population: int = 100,
              generations: int = 5, replications: int = 100, predictive: int = 40,
              predictive_replications: int = 500, seed: Optional[int] = None,
              executor: Optional[Executor] = None, folder: Optional[Path] = None,
              on_stage: Optional[Callable[[str, int, int], None]] = None) -> Calibration:
    """Calibrate `parameters` to `register` (a path or a loaded Register); see the module's
    doc. With `folder`, every finished batch of candidates and every predictive draw is saved
    there, and calling again with the same folder and settings resumes, ending identical.
    The candidates and the draws run where `executor` says; `on_stage(stage, done, total)`
    reports each generation (particles accepted) and the predictive draws."""
    from sim.analysis.patterns.register import Register, load_register

    if not isinstance(register, Register):
        register = load_register(register)
    for name, value in (("population", population), ("generations", generations),
                        ("replications", replications), ("predictive", predictive),
                        ("predictive_replications", predictive_replications)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1")
    seed = register.seed if seed is None else int(seed)
    executor = as_executor(executor)
    pred_reps = int(predictive_replications)
    priors = priors_for(register, parameters)
    targets = targets_of(register)
    cal = _calibrate_only(register)
    folder = Path(folder) if folder is not None else None

    def simulate(values, candidate_seed):
        return statistics(cal, replications, values, candidate_seed)

    def generation(t, accepted, evaluated):
        if on_stage is not None:
            on_stage(f"generation {t + 1}" if t >= 0 else "initial epsilon", accepted,
                     population)

    result = run_abc(simulate, targets, priors, population=population, generations=generations,
                     seed=seed, executor=executor, folder=folder / "abc" if folder else None,
                     on_batch=generation)
    draws = result.draws(predictive, seed)
    sets = [{}] + [dict(row) for _, row in draws.iterrows()]     # the defaults, then each draw
    seeds = [int(np.random.SeedSequence([seed, 0x505245, k]).generate_state(1)[0])
             for k in range(len(sets))]
    saved = {k: folder / "predictive" / f"draw-{k:05d}.parquet" if folder else None
             for k in range(len(sets))}
    tables = {}
    for k, path in saved.items():
        if path is not None and path.is_file():
            tables[k] = pd.read_parquet(path)
    import cloudpickle

    blob = cloudpickle.dumps(register)
    tasks = {k: (predictive_draw, (blob, pred_reps, sets[k], seeds[k]))
             for k in range(len(sets)) if k not in tables}
    if on_stage is not None:
        on_stage("predictive", len(tables), len(sets))
    for k, table in executor.execute(tasks):
        if saved[k] is not None:
            saved[k].parent.mkdir(parents=True, exist_ok=True)
            files.write_parquet(table, saved[k])
        tables[k] = table
        if on_stage is not None:
            on_stage("predictive", len(tables), len(sets))
    rows = []
    for k in range(len(sets)):
        t = tables[k].assign(draw=k)
        for prior in priors:
            t[prior.path] = sets[k].get(prior.path, math.nan)
        rows.append(t)
    everything = pd.concat(rows, ignore_index=True)
    at_defaults = everything[everything["draw"] == 0]
    posterior = everything[everything["draw"] > 0]
    patterns = _pass_rates(posterior, at_defaults)
    settings = {"register": register.source, "parameters": list(parameters),
                "priors": [dataclasses.asdict(p) for p in priors], "population": population,
                "generations": generations, "replications": replications,
                "predictive": predictive, "predictive_replications": pred_reps, "seed": seed}
    return Calibration(result, result.contraction(), patterns, posterior.reset_index(drop=True),
                       conflicts(posterior), settings)


def _pass_rates(posterior: pd.DataFrame, at_defaults: pd.DataFrame) -> pd.DataFrame:
    by = posterior.groupby("name", sort=False)
    table = pd.DataFrame({
        "role": by["role"].first(),
        "pass_rate": by["reproduced"].mean().astype(float),
        "median_value": by["value"].median(),
        "at_defaults": at_defaults.set_index("name")["value"],
        "reproduced_at_defaults": at_defaults.set_index("name")["reproduced"].astype(bool),
    }).reset_index()
    table["meets_goal"] = table["pass_rate"] >= PASS_GOAL
    return table


def conflicts(posterior: pd.DataFrame) -> pd.DataFrame:
    """Pairs of patterns that pull against each other across the posterior draws."""
    wide = posterior.pivot(index="draw", columns="name", values="reproduced").astype(float)
    rates = wide.mean()
    contested = [n for n in wide.columns if CONTESTED[0] <= rates[n] <= CONTESTED[1]]
    rows = []
    for i, a in enumerate(contested):
        for b in contested[i + 1:]:
            x, y = wide[a].to_numpy(), wide[b].to_numpy()
            phi = float(np.corrcoef(x, y)[0, 1])
            if phi < CONFLICT_PHI:
                rows.append({"pattern": a, "against": b, "phi": phi,
                             "pass_rate": float(rates[a]), "against_pass_rate": float(rates[b]),
                             "both_pass": float((x * y).mean())})
    return pd.DataFrame(rows, columns=["pattern", "against", "phi", "pass_rate",
                                       "against_pass_rate", "both_pass"])
