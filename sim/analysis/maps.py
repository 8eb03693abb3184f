"""Two-factor maps: an outcome over a grid of two inputs (say resourcing x ambition), every other
uncertain input still drawn from each replication's own stream. The picture a workshop wants.

Also the model as a plain function of named inputs returning named outcomes, for exploratory
modelling tools such as the EMA Workbench (docs/SENSITIVITY.md has a working example).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import (OUTPUTS, FactorError, FactorSpec, evaluate_design,
                                      interval_names, with_factors)
from sim.montecarlo.executors import Executor
from sim.partnership.inputs import uncertain_paths
from sim.scenario.schema import Scenario


@dataclass
class GridResult:
    x: FactorSpec
    y: FactorSpec
    output: str
    table: pd.DataFrame          # one row per grid cell: the x and y values (columns named by
    #                              their paths), every output and its 95% CI (OUTPUT_ci_low,
    #                              OUTPUT_ci_high) over the cell's runs
    settings: dict
    scenario: Optional[Scenario] = None   # what the grid ran on (its posterior, if any)

    @property
    def tables(self) -> dict:
        return {"grid": self.table}

    def _extremes(self, o: str) -> tuple[str, str]:
        t, x, y = self.table, self.x.path, self.y.path

        def cell(i):
            return (f"{t[o][i]:.3g} [95% CI {t[o + '_ci_low'][i]:.3g}, "
                    f"{t[o + '_ci_high'][i]:.3g}] at {x} {t[x][i]:.3g}, {y} {t[y][i]:.3g}")

        return cell(t[o].idxmin()), cell(t[o].idxmax())

    @property
    def summary(self) -> dict:
        """For each output, its lowest and highest cell, with 95% CIs and where they are."""
        return {"headline": [[o, "from {} to {}".format(*self._extremes(o))]
                             for o in self.settings["outputs"]]}

    @property
    def message(self) -> str:
        low, high = self._extremes(self.output)
        return f"{self.output} ranges from {low} to {high}"

    def matrix(self, output: Optional[str] = None) -> pd.DataFrame:
        """The output (or one of its CI bounds, "p_deliver_ci_low") as a matrix: rows y
        values (ascending), columns x values."""
        return self.table.pivot(index=self.y.path, columns=self.x.path,
                                values=output or self.output)


def _columns_of(scenario, path: str, groups: dict) -> list[int]:
    """Positions among the uncertain inputs that a factor path sets."""
    names = uncertain_paths(scenario)
    return [i for i, n in enumerate(names) if n == path or groups.get(n) == path]


def fixed_design(scenario, specs: list[FactorSpec], values: np.ndarray):
    """The scenario with `specs` made uncertain, the input columns they set, and the design
    [points, columns] in quantile space that puts each spec at the given values [points, specs]."""
    sc, groups = with_factors(scenario, specs)
    cols, design = [], []
    for j, spec in enumerate(specs):
        where = _columns_of(sc, spec.path, groups)
        span = spec.high - spec.low
        u = np.zeros(len(values)) if span == 0 else (values[:, j] - spec.low) / span
        cols += where
        design += [u] * len(where)
    if len(set(cols)) < len(cols):
        raise FactorError(f"{' and '.join(f.path for f in specs)} set the same input; "
                          "choose inputs that do not overlap")
    return sc, np.array(cols, dtype=int), np.column_stack(design) if design else \
        np.zeros((len(values), 0))


def grid(scenario, x, y, steps: int = 9, replications: int = 200,
         outputs=("p_deliver",), seed: Optional[int] = None,
         executor: Optional[Executor] = None) -> GridResult:
    """Evaluate `outputs` on a steps x steps grid of `x` and `y` ("PATH=LOW:HIGH" or FactorSpec),
    each cell over `replications` runs, with each output's 95% CI (see evaluate_points); the
    cells run where `executor` says (progress in cells)."""
    x, y = (f if isinstance(f, FactorSpec) else FactorSpec.parse(f) for f in (x, y))
    if x.path == y.path:
        raise FactorError(f"--x and --y are both {x.path}")
    if steps < 2 or replications < 1:
        raise ValueError("steps must be at least 2 and replications at least 1")
    outputs = tuple(outputs)
    bad = [o for o in outputs if o not in OUTPUTS]
    if bad or not outputs:
        raise ValueError(f"outputs must be among {', '.join(OUTPUTS)}, got {bad or 'none'}")
    xs, ys = np.linspace(x.low, x.high, steps), np.linspace(y.low, y.high, steps)
    gx, gy = np.meshgrid(xs, ys)
    values = np.column_stack([gx.ravel(), gy.ravel()])
    sc, columns, design = fixed_design(scenario, [x, y], values)
    seed = sc.seed if seed is None else int(seed)
    names = interval_names(outputs)
    Y = evaluate_design(sc, seed, design, columns, replications, names, exact=True,
                        executor=executor)
    table = pd.DataFrame({x.path: values[:, 0], y.path: values[:, 1], **dict(zip(names, Y.T))})
    settings = {"x": f"{x.path}={x.low:g}:{x.high:g}", "y": f"{y.path}={y.low:g}:{y.high:g}",
                "steps": steps, "replications": replications, "outputs": list(outputs),
                "seed": seed}
    return GridResult(x, y, outputs[0], table, settings, sc)


def outcome_function(scenario, replications: int = 64, seed: Optional[int] = None,
                     outputs=tuple(OUTPUTS), inputs: Optional[list] = None) -> Callable[..., dict]:
    """The model as `f(**inputs) -> {output: value}`, for the EMA Workbench and other tools that
    call a model once per experiment. Keyword names are scenario field paths of any kind
    (`f(**{"partners.Northshire.ambition": 0.7, "charter.decision_rule": "majority",
    "charter.exit.notice_cycles": 2, "parameters.trust_memory": 0.7})`); fields not given keep
    their scenario values or distributions. A time-series output (`timeseries.mean_trust`)
    comes back as an array over reviews 0..horizon (EMA's TimeSeriesOutcome). Outputs, and the
    `inputs` named here, are checked when the function is built; every call uses the same
    replication streams (common random numbers), so two calls differ only by their inputs."""
    from sim.analysis.evaluation import SERIES, check_outputs, evaluate, output_columns
    from sim.scenario.fields import field_of
    from sim.scenario.loading import as_scenario

    base = as_scenario(scenario)
    seed = base.seed if seed is None else int(seed)
    outputs = check_outputs(outputs)
    for path in inputs or ():
        field_of(base, path, "inputs")

    def model(**values) -> dict:
        table = evaluate(base, pd.DataFrame([values]),   # one point (no column: the scenario)
                         replications, outputs, seed, common_random_numbers=True)
        row = table.iloc[0]
        result = {}
        for o in outputs:
            if o.startswith(SERIES):
                horizon = table.attrs["settings"]["horizon"]
                result[o] = row[output_columns([o], horizon)].to_numpy(dtype=float)
            else:
                result[o] = float(row[o])
        return result

    model.__name__ = f"collabsim_{base.name}".replace(" ", "_")
    return model
