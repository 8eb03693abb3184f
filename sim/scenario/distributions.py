"""Uncertain inputs: a scenario number may be a fixed value or a distribution.

A planner rarely knows a partner's ambition exactly; they can say "somewhere between 0.3 and
0.6". Each distribution here is sampled by inverse transform from one uniform number, so a
replication's whole set of uncertain inputs comes from a single block of uniforms drawn from its
own generator: the draw order is fixed by the scenario, never by the executor.

YAML forms (all equivalent to a pydantic model below):

    ambition: 0.4                                  # fixed
    ambition: {uniform: [0.3, 0.6]}                # low, high
    ambition: {triangular: [0.2, 0.4, 0.7]}        # low, mode, high
    ambition: {beta: {a: 2, b: 5}}                 # optionally low/high to rescale
    ambition: [0.3, 0.45, 0.6]                     # one of these values, equally likely
"""

from __future__ import annotations

import math
from typing import Annotated, Union

import numpy as np
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict,
                      field_validator, model_validator)

#: A number as a scenario gives it: an int or a float, never text ("0.3") or true/false.
Number = Annotated[float, Strict()]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def bounds(self) -> tuple[float, float]:
        raise NotImplementedError

    def ppf(self, u: np.ndarray | float) -> np.ndarray | float:
        raise NotImplementedError

    def central_u(self) -> float:
        """The uniform that maps to the distribution's point estimate (median by default)."""
        return 0.5


def _finite(values: list[float]) -> list[float]:
    for v in values:
        if not math.isfinite(v):
            raise ValueError(f"must be finite numbers, got {v}")
    return values


class Uniform(_Dist):
    """Any value between low and high equally likely."""

    uniform: tuple[Number, Number] = Field(description="[low, high]")

    @field_validator("uniform")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        _finite(list(v))
        if v[0] > v[1]:
            raise ValueError(f"low ({v[0]}) must not exceed high ({v[1]})")
        return v

    def bounds(self) -> tuple[float, float]:
        return self.uniform

    def ppf(self, u):
        lo, hi = self.uniform
        return lo + u * (hi - lo)


class Triangular(_Dist):
    """A most likely value with a low and high bound: the usual three-point estimate."""

    triangular: tuple[Number, Number, Number] = Field(description="[low, mode, high]")

    @field_validator("triangular")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        _finite(list(v))
        lo, mode, hi = v
        if not lo <= mode <= hi:
            raise ValueError(f"need low <= mode <= high, got {list(v)}")
        return v

    def bounds(self) -> tuple[float, float]:
        return self.triangular[0], self.triangular[2]

    def central_u(self) -> float:
        """A three-point estimate's point estimate is its mode."""
        lo, mode, hi = self.triangular
        return 0.5 if hi == lo else (mode - lo) / (hi - lo)

    def ppf(self, u):
        lo, mode, hi = self.triangular
        if hi == lo:
            return lo + 0.0 * u
        c = (mode - lo) / (hi - lo)
        u = np.asarray(u, dtype=float)
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        out = np.where(u < c, left, right)
        return out if out.ndim else float(out)


class BetaParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    a: Number = Field(gt=0, le=1e4, description="shape alpha (> 0)")
    b: Number = Field(gt=0, le=1e4, description="shape beta (> 0)")
    low: Number = Field(0.0, description="value at the bottom of the range")
    high: Number = Field(1.0, description="value at the top of the range")

    @model_validator(mode="after")
    def _ordered(self) -> "BetaParams":
        _finite([self.a, self.b, self.low, self.high])
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Beta(_Dist):
    """A Beta(a, b) distribution, optionally rescaled to [low, high]."""

    beta: BetaParams

    def bounds(self) -> tuple[float, float]:
        return self.beta.low, self.beta.high

    def ppf(self, u):
        from scipy.special import betaincinv  # only when a Beta is used: scipy is slow to load

        x = betaincinv(self.beta.a, self.beta.b, u)
        return self.beta.low + x * (self.beta.high - self.beta.low)


class OneOf(_Dist):
    """One of a list of values, each equally likely (written in YAML as a plain list)."""

    one_of: tuple[Number, ...] = Field(min_length=1, max_length=10_000)

    @field_validator("one_of")
    @classmethod
    def _finite_values(cls, v):
        _finite(list(v))
        return v

    def bounds(self) -> tuple[float, float]:
        return min(self.one_of), max(self.one_of)

    def ppf(self, u):
        values = np.asarray(self.one_of, dtype=float)
        idx = np.minimum((np.asarray(u) * len(values)).astype(int), len(values) - 1)
        out = values[idx]
        return out if np.ndim(out) else float(out)


#: How each distribution is written in a scenario (its only key) and its class.
DISTRIBUTION_KINDS = {"uniform": Uniform, "triangular": Triangular, "beta": Beta, "one_of": OneOf}


#: How a number-or-distribution field may be written, for error messages.
FORMS = ("{uniform: [low, high]}, {triangular: [low, mode, high]}, {beta: {a, b}}, or a list "
         "of values")


def _list_to_one_of(value):
    """Let a YAML list stand for 'one of these values'; refuse text and yes/no values, which
    are not numbers (pydantic would read "0.3" as 0.3 and true as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a distribution, got {str(value).lower()} "
                         "(a yes/no value)")
    if isinstance(value, str):
        raise ValueError(f"expected a number or a distribution ({FORMS}), got text {value!r}")
    if isinstance(value, list):
        return {"one_of": value}
    return value


def is_uncertain(value) -> bool:
    return isinstance(value, _Dist)


def check_within(value, low: float, high: float) -> None:
    """Raise if a fixed value or a distribution's support leaves [low, high]."""
    lo, hi = value.bounds() if is_uncertain(value) else (value, value)
    if lo < low or hi > high:
        what = "range" if is_uncertain(value) else "value"
        shown = f"[{lo:g}, {hi:g}]" if is_uncertain(value) else f"{value:g}"
        raise ValueError(f"{what} {shown} must lie within [{low:g}, {high:g}]")


def uncertain(low: float = 0.0, high: float = 1.0):
    """A pydantic type: a number in [low, high], or a distribution whose support lies in it."""

    def _check(v):
        if not is_uncertain(v):
            if not math.isfinite(v):
                raise ValueError(f"must be a finite number, got {v}")
        check_within(v, low, high)
        return v

    return Annotated[
        Union[float, Uniform, Triangular, Beta, OneOf],
        BeforeValidator(_list_to_one_of),
        AfterValidator(_check),
    ]
