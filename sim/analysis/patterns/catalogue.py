"""The named statistics a pattern may use: for each, its settings (a strict schema), the runs
it needs and how its value is computed from them (sim.analysis.patterns.statistics).

Three kinds of statistic need three kinds of run:

* `run`: one Monte Carlo run of the pattern's scenario (its variant, if it has one), with
  the outcomes and time-series tables;
* `paired`: the pattern's baseline and its variant on common random numbers, the variant
  judged on the baseline's business-case target (sim.montecarlo.paired);
* `shocks`: the pattern's scenario with the statistic's shocks absent and struck at each of
  its reviews, on common random numbers (what `collabsim stress --timing` runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Callable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.analysis.patterns import statistics as st
from sim.montecarlo.paired import KEPT
from sim.partnership.outcomes import STATUSES
from sim.partnership.rules import SATISFACTION_PARTS
from sim.scenario.schema import suggest, whole_number

#: Numeric columns of every outcomes table (besides one column per sampled input).
OUTCOME_COLUMNS = (
    "delivered", "savings_pct", "net_savings_m", "break_even_cycle", "dissolved",
    "dissolution_cycle", "exits", "first_exit_cycle", "final_mean_trust", "final_min_trust",
    "mean_trust", "fairness_imbalance", "alignment", "final_maturity", "target_net_savings_m",
)
#: Numeric columns kept for paired runs (sim.montecarlo.paired.KEPT), for paired differences.
PAIRED_COLUMNS = tuple(c for c in KEPT if c in OUTCOME_COLUMNS and c not in
                       ("delivered", "dissolved", "target_net_savings_m"))
EXIT_REASONS = (*SATISFACTION_PARTS, "forced")

Review = Annotated[int, BeforeValidator(whole_number), Field(ge=1, le=10_000)]


class Settings(BaseModel):
    """No settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def columns(self) -> dict[str, str]:
        """The outcome columns these settings name, by setting (checked against the
        scenario's outcomes table)."""
        return {}

    def shock_texts(self) -> tuple[str, ...]:
        return ()


class Status(Settings):
    status: Literal[STATUSES] = Field(description="thriving, stumbling, crumbling or "
                                      "dissolved.")


class ByReview(Settings):
    review: Review = Field(description="The review by which (inclusive).")


class Column(Settings):
    column: str = Field(description="An outcome column, or a sampled input's path.")

    def columns(self):
        return {"column": self.column}


class Correlation(Settings):
    x: str = Field(description="An outcome column, or a sampled input's path.")
    y: str = Field(description="Another.")
    method: Literal["pearson", "spearman"] = "pearson"

    def columns(self):
        return {"x": self.x, "y": self.y}


class ShareRatio(Settings):
    outcome: Literal[tuple(st.FLAGS)] = Field(description="delivered, not_delivered, any_exit "
                                              "or dissolved.")
    by: str = Field(description="The column whose lowest and highest fractions are compared.")
    fraction: float = Field(0.2, gt=0, le=0.5, description="Share of runs in each group.")

    def columns(self):
        return {"by": self.by}


class ExitReason(Settings):
    reason: Literal[EXIT_REASONS] = Field(description="The first leaver's reason.")


class Hazard(Settings):
    event: Literal[tuple(st.EVENT_CYCLE)] = Field(description="any_exit or dissolved.")
    reviews: tuple[Review, Review] = Field(description="[first, last] review, inclusive.")

    @model_validator(mode="after")
    def _ordered(self):
        if self.reviews[0] > self.reviews[1]:
            raise ValueError(f"reviews: first {self.reviews[0]} is after last "
                             f"{self.reviews[1]}")
        return self


class Regained(Settings):
    dip: float = Field(0.05, gt=0, le=1, description="How far below its level at signing "
                       "mean trust must fall to count as a dip.")
    within: Review = Field(5, description="Dips count at reviews 1..within.")


class Paired(Settings):
    outcome: str = Field("delivered", description="A yes/no outcome (delivered, "
                         "not_delivered, any_exit, dissolved) or a numeric column kept for "
                         f"paired runs ({', '.join(PAIRED_COLUMNS)}).")
    summary: Literal["mean", "median"] = "mean"

    @model_validator(mode="after")
    def _known(self):
        known = (*st.FLAGS, *PAIRED_COLUMNS)
        if self.outcome not in known:
            raise ValueError(f"outcome {self.outcome!r} is not a paired outcome"
                             f"{suggest(self.outcome, known)}; choose one of "
                             f"{', '.join(known)}")
        return self


ShockText = Annotated[str, Field(min_length=1, max_length=500)]


class ShockHarm(Settings):
    shocks: list[ShockText] = Field(min_length=1, max_length=20, description="The shocks, "
                                    "as `KIND:key=value,...` (no at_cycle or rate).")
    reviews: list[Review] = Field(min_length=1, max_length=400, description="Reviews the "
                                  "harm is averaged over.")

    def shock_texts(self):
        return tuple(self.shocks)

    def struck_at(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.reviews)))


class ShockHarmRatio(Settings):
    shocks: list[ShockText] = Field(min_length=1, max_length=20, description="As shock_harm.")
    early: list[Review] = Field(min_length=1, max_length=400, description="Reviews of the "
                                "early shock (denominator).")
    late: list[Review] = Field(min_length=1, max_length=400, description="Reviews of the "
                               "late shock (numerator).")

    def shock_texts(self):
        return tuple(self.shocks)

    def struck_at(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.early) | set(self.late)))


@dataclass(frozen=True)
class Statistic:
    """A named statistic: what it needs, its settings, its unit and how it is computed."""

    name: str
    kind: str                           # "run", "paired" or "shocks"
    settings: type[Settings]
    unit: str                           # "share", "points", "ratio", "correlation", "value"
    compute: Callable                   # (tables, settings) -> Estimate
    function: Callable                  # the function of sim.analysis.patterns.statistics

    @property
    def summary(self) -> str:
        """What it computes (its function's docstring)."""
        return " ".join(self.function.__doc__.split())

    def unit_of(self, settings: Settings) -> str:
        if self.name == "paired_difference" and settings.outcome not in st.FLAGS:
            return "value"
        return self.unit


def _run(function, unit: str, settings: type[Settings] = Settings, *, series: bool = False):
    def compute(tables, s: Settings):
        return function(tables.timeseries if series else tables.outcomes, **s.model_dump())
    return Statistic(function.__name__, "run", settings, unit, compute, function)


STATISTICS: dict[str, Statistic] = {s.name: s for s in [
    _run(st.share_delivered, "share"),
    _run(st.share_any_exit, "share"),
    _run(st.share_dissolved, "share"),
    _run(st.share_status, "share", Status),
    _run(st.share_break_even_by, "share", ByReview),
    _run(st.mean, "value", Column),
    _run(st.median, "value", Column),
    _run(st.correlation, "correlation", Correlation),
    _run(st.share_ratio, "ratio", ShareRatio),
    _run(st.exit_reason_share, "share", ExitReason),
    _run(st.hazard, "share", Hazard),
    _run(st.regained_share, "share", Regained, series=True),
    Statistic("paired_difference", "paired", Paired, "points",
              lambda t, s: st.paired_difference(t.baseline, t.variant, s.outcome, s.summary),
              st.paired_difference),
    Statistic("shock_harm", "shocks", ShockHarm, "points",
              lambda t, s: st.shock_harm(t.absent, t.struck, s.reviews), st.shock_harm),
    Statistic("shock_harm_ratio", "shocks", ShockHarmRatio, "ratio",
              lambda t, s: st.shock_harm_ratio(t.absent, t.struck, s.early, s.late),
              st.shock_harm_ratio),
]}

#: Statistics named by the issue that are not offered, and why.
NOT_SUPPORTED = {
    "sobol_rank": "a Sobol rank condition (docs/VALIDATION.md's 'behaviour decides') needs a "
                  "sweep: 512 base samples x (22 factors + 2) design points x 32 runs, about "
                  "400,000 runs, eight times the whole register at 2,000 runs, and ranking 22 "
                  "factors cannot be done on the few runs per call a calibrator affords. "
                  "`python -m sim.analysis.validation --only 'behaviour decides'` checks it.",
}
