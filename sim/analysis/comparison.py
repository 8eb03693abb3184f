"""Charter comparison: which draft charter delivers more often, by how much, and is it real?

Two or more variants (scenarios, or one scenario's partners under several charters) are run on
the same sampled conditions with common random numbers (sim.montecarlo.paired), so replication r of
every
variant faces the same partners, estimates and luck. Then:

* every variant is judged like for like: against the first variant's business case, replication
  by replication, with its net savings net of its own programme costs (a charter that plans a
  smaller target, or counts its own team's cost in its plan, does not look better for it);
* whether a variant delivers more often than another is a paired question, answered with the
  exact McNemar test on the replications where exactly one of them delivered, and a 95% CI of
  the paired difference;
* regret (Savage): in each replication, how far a variant's net savings fall short of the best
  variant's in that replication; how often it is not the best, and by how much on average and
  in the worst 5% of runs. A robust charter is one that rarely loses much whatever happens.

With several comparisons against the best, p-values are Holm-adjusted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from sim.montecarlo import files
from sim.montecarlo.executors import Executor
from sim.montecarlo.paired import fully_paired, on_common_target, paired_outcomes
from sim.montecarlo.statistics import mean_interval, wilson_interval
from sim.scenario.distributions import DISTRIBUTION_KINDS
from sim.scenario.loading import (ScenarioError, as_scenario, read_yaml, scenario_data,
                                  scenario_from_dict)
from sim.scenario.schema import Scenario

ALPHA = 0.05


def load_charter(path: str | os.PathLike, scenario: Scenario) -> Scenario:
    """`scenario`'s partners and shocks under the charter in a YAML file (either a charter
    mapping, or a mapping with a `charter:` key such as a whole scenario file)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(str(path), [f"a charter file holds a mapping of clauses, not a "
                                        f"{type(data).__name__}"])
    charter = data.get("charter", data) if isinstance(data.get("charter", data), dict) else data
    merged = scenario_data(scenario)
    merged["charter"] = charter
    merged["name"] = f"{scenario.name} under {Path(path).stem}"
    return scenario_from_dict(merged, source=str(path))


@dataclass
class Comparison:
    names: list[str]
    variants: list[Scenario]
    table: pd.DataFrame          # one row per variant: odds, savings, exits, regret, rank
    differences: pd.DataFrame    # each variant against the best: paired difference, test
    clauses: pd.DataFrame        # every setting that differs between the variants
    runs: pd.DataFrame           # per replication and variant: the paired outcomes
    paired: str                  # "fully" or "conditions only"
    message: str
    settings: dict

    @property
    def tables(self) -> dict:
        """The comparison, the paired differences, the clauses that differ, and every run of
        every variant (without its shock log)."""
        return {"comparison": self.table, "differences": self.differences,
                "clauses": self.clauses, "runs": self.runs.drop(columns=["shocks"])}

    @property
    def summary(self) -> dict:
        best = self.table.iloc[0]
        return {"message": self.message, "best": best["variant"], "paired": self.paired,
                "table": files.json_records(self.table),
                "differences": files.json_records(self.differences),
                "headline": [["verdict", self.message],
                             *[[r["variant"], f"P(deliver) {r['p_deliver']:.1%} [95% CI "
                                f"{r['ci_low']:.1%}, {r['ci_high']:.1%}], median net savings "
                                f"£{r['median_net_savings_m']:.2f}m, not the best in "
                                f"{r['p_regret']:.0%} of runs"] for _, r in
                               self.table.iterrows()]]}


def compare(variants, names: Optional[list[str]] = None, *, replications: int = 4000,
            seed: Optional[int] = None, executor: Optional[Executor] = None) -> Comparison:
    """Compare two or more variants (Scenarios, mappings or YAML paths) on the same sampled
    conditions. The seed defaults to the first variant's."""
    variants = [as_scenario(v) for v in variants]
    if len(variants) < 2:
        raise ValueError("compare needs at least two scenarios or charters")
    names = list(names) if names else _names(variants)
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ: {names}")
    if replications < 10:
        raise ValueError("replications must be at least 10")
    seed = variants[0].seed if seed is None else int(seed)
    tables = on_common_target(paired_outcomes(variants, seed, replications, executor))
    delivered = np.stack([t["delivered"].to_numpy(bool) for t in tables])       # [V, R]
    money = np.stack([t["net_savings_m"].to_numpy(float) for t in tables])
    regret = money.max(axis=0) - money                                          # [V, R]
    rows = []
    for name, t, reg in zip(names, tables, regret):
        k = int(t["delivered"].sum())
        lo, hi = wilson_interval(k, len(t))
        rows.append({
            "variant": name, "p_deliver": k / len(t), "ci_low": lo, "ci_high": hi,
            "median_savings_pct": float(t["savings_pct"].median()),
            "median_net_savings_m": float(t["net_savings_m"].median()),
            "mean_exits": float(t["exits"].mean()), "p_any_exit": float((t["exits"] > 0).mean()),
            "p_dissolved": float(t["dissolved"].mean()),
            "p_regret": float((reg > 1e-9).mean()), "mean_regret_m": float(reg.mean()),
            "p95_regret_m": float(np.percentile(reg, 95)),
        })
    table = pd.DataFrame(rows)
    order = np.lexsort((table["mean_regret_m"].to_numpy(), -table["p_deliver"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    best = names.index(table.loc[0, "variant"])
    differences = _against_best(names, best, delivered, money)
    clauses = differing_settings(variants, names)
    paired = "fully" if fully_paired(variants) else "conditions only"
    message = _verdict(table, differences, clauses, names[0])
    runs = pd.concat([t.assign(variant=n) for n, t in zip(names, tables)], ignore_index=True)
    settings = {"variants": names, "replications": replications, "seed": seed,
                "paired": paired}
    return Comparison(names, variants, table, differences, clauses, runs, paired, message,
                      settings)


def _names(variants: list[Scenario]) -> list[str]:
    names = [v.name for v in variants]
    if len(set(names)) == len(names):
        return names
    return [f"{i + 1}. {n}" for i, n in enumerate(names)]


def mcnemar(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant pairs (binomial test)."""
    from scipy.stats import binomtest

    n = only_a + only_b
    return 1.0 if n == 0 else float(binomtest(only_a, n, 0.5).pvalue)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment (controls the family-wise error rate)."""
    m = len(pvalues)
    order = np.argsort(pvalues)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted.tolist()


def _against_best(names, best, delivered, money) -> pd.DataFrame:
    rows = []
    for i, name in enumerate(names):
        if i == best:
            continue
        d = delivered[best].astype(float) - delivered[i].astype(float)
        only_best = int((delivered[best] & ~delivered[i]).sum())
        only_other = int((delivered[i] & ~delivered[best]).sum())
        lo, hi = mean_interval(d)
        m = money[best] - money[i]
        mlo, mhi = mean_interval(m)
        rows.append({"best": names[best], "variant": name, "p_deliver_difference": d.mean(),
                     "ci_low": lo, "ci_high": hi, "only_best_delivered": only_best,
                     "only_variant_delivered": only_other,
                     "p_value": mcnemar(only_best, only_other),
                     "net_savings_difference_m": float(m.mean()), "savings_ci_low_m": mlo,
                     "savings_ci_high_m": mhi})
    frame = pd.DataFrame(rows)
    frame["p_value_holm"] = holm(frame["p_value"].tolist())
    frame["real"] = frame["p_value_holm"] < ALPHA
    return frame


def _verdict(table: pd.DataFrame, differences: pd.DataFrame, clauses: pd.DataFrame,
             first: str) -> str:
    best = table.iloc[0]
    if clauses.empty:
        return ("the variants are identical in every setting: no difference (paired runs "
                "agree replication for replication)")
    parts = []
    for _, d in differences.iterrows():
        gap = (f"{100 * d['p_deliver_difference']:+.1f} percentage points of P(deliver) over "
               f"{d['variant']} (95% CI {100 * d['ci_low']:+.1f} to {100 * d['ci_high']:+.1f}, "
               f"McNemar p {_p(d['p_value_holm'])})")
        if d["real"]:
            parts.append(f"{gap}: a real difference")
        else:
            parts.append(f"{gap}: no detectable difference at this number of runs")
    # delivery and money are two answers: a charter can deliver more often and still net less
    # once its own costs (a programme team, training) are paid, so each is said on its own
    lead = f"{best['variant']} delivers the business case more often" if \
        differences["real"].all() else f"{best['variant']} ranks first on P(deliver)"
    text = f"{lead}: {'; '.join(parts)}"
    money = "; ".join(
        f"{d['best']} nets £{abs(d['net_savings_difference_m']):.2f}m "
        f"{'more' if d['net_savings_difference_m'] >= 0 else 'less'} a run than {d['variant']} "
        f"on average (95% CI {d['savings_ci_low_m']:+.2f} to {d['savings_ci_high_m']:+.2f})"
        for _, d in differences.iterrows())
    return (f"{text}. In money, net of each charter's own costs: {money}. Every variant is "
            f"judged against {first}'s business case")


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


# --- which clauses differ ---------------------------------------------------------------------


def _flatten(value, prefix: str, out: dict) -> None:
    if isinstance(value, dict) and not _is_distribution(value):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            key = v.get("name", i) if isinstance(v, dict) else i
            _flatten(v, f"{prefix}[{key}]", out)
    else:
        out[prefix] = value


def _is_distribution(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)) in DISTRIBUTION_KINDS


def differing_settings(variants: list[Scenario], names: list[str]) -> pd.DataFrame:
    """Every setting (charter clause, partner trait, shock, horizon) whose value differs
    between the variants, one row per setting and a column per variant."""
    flat = []
    for v in variants:
        data = scenario_data(v)
        for key in ("name", "description", "seed"):
            data.pop(key, None)
        out: dict = {}
        _flatten(data, "", out)
        flat.append(out)
    keys = []
    for f in flat:
        keys += [k for k in f if k not in keys]
    rows = []
    for k in keys:
        values = [f.get(k, "(not set)") for f in flat]
        if any(_text(v) != _text(values[0]) for v in values[1:]):
            rows.append({"setting": k, **{n: _text(v) for n, v in zip(names, values)}})
    return pd.DataFrame(rows, columns=["setting", *names])


def _text(value) -> str:
    if isinstance(value, dict):
        (kind, args), = value.items()
        return f"{kind}{list(args) if isinstance(args, (list, tuple)) else args}"
    return str(value)
