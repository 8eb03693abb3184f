"""Reading a calibration's posterior (`behaviour: {posterior: PATH}`) into a scenario.

A calibration (`collabsim calibrate`, sim.analysis.calibration) leaves a results folder with a
posterior: particles, each a set of values of the constants it fitted, with weights. A scenario
that names the folder gets the particles when it is loaded, read safely (regular files under
size caps) and checked here, so that a bad folder is refused as bad input, naming what is wrong.
How a replication chooses its particle is a rule of the model (sim.partnership.behaviour).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

#: The largest posterior.parquet, patterns.parquet or manifest.json read from a folder.
MAX_POSTERIOR_BYTES = 16_000_000


class PosteriorError(ValueError):
    """A `behaviour: {posterior: PATH}` that cannot be used (the message names what)."""


def _read(path: Path) -> bytes:
    from sim.scenario.loading import UnreadableFile, read_regular_file

    try:
        return read_regular_file(path, MAX_POSTERIOR_BYTES)
    except UnreadableFile as exc:
        raise PosteriorError(f"{path.name}: {exc}") from None


def _parquet(raw: bytes, name: str):
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:       # pyarrow raises many kinds for a damaged file
        raise PosteriorError(f"{name}: not a readable Parquet table ({type(exc).__name__})") \
            from None


def read_posterior(posterior: str, base: str | os.PathLike = ".") -> dict:
    """The `particles` of a Behaviour, read from the calibration folder `posterior` (relative
    to `base`): its posterior's columns, values and weights, the file's sha256, and the
    calibration's pattern pass rates. PosteriorError says what is wrong."""
    folder = Path(posterior)
    if not folder.is_absolute():
        folder = Path(os.path.normpath(Path(base) / folder))
    if not folder.exists():
        raise PosteriorError(f"no such folder: {folder}")
    if not folder.is_dir():
        raise PosteriorError(f"{folder}: not a folder; give a calibration results folder "
                             "(written by `collabsim calibrate`)")
    if not (folder / "posterior.parquet").exists():
        raise PosteriorError(f"{folder}: not a calibration results folder (no "
                             "posterior.parquet; `collabsim calibrate --out` writes one)")
    try:
        manifest = json.loads(_read(folder / "manifest.json").decode("utf-8"))
    except PosteriorError:
        raise PosteriorError(f"{folder}: not a finished calibration (no readable "
                             "manifest.json)") from None
    except (UnicodeDecodeError, ValueError):
        raise PosteriorError(f"{folder}: manifest.json is not JSON") from None
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind != "calibrate":
        raise PosteriorError(f"{folder}: a {kind or 'results'} folder, not a calibration "
                             "(manifest.json's kind is not \"calibrate\")")
    raw = _read(folder / "posterior.parquet")
    table = _parquet(raw, "posterior.parquet")
    if "weight" not in table.columns:
        raise PosteriorError("posterior.parquet: no `weight` column")
    paths = [str(c) for c in table.columns if c != "weight"]
    if not paths:
        raise PosteriorError("posterior.parquet: no parameter columns")
    numeric = table.select_dtypes(include="number").columns
    for column in [*paths, "weight"]:
        if column not in numeric:
            raise PosteriorError(f"posterior.parquet: column {column} is not numbers")
    values = table[paths].to_numpy(float)
    weights = table["weight"].to_numpy(float)
    if not np.isfinite(weights).all() or (weights <= 0).any():
        raise PosteriorError("posterior.parquet: weights must be finite and positive")
    if not np.isfinite(values).all():
        raise PosteriorError("posterior.parquet: a value is not finite")
    patterns = []
    if (folder / "patterns.parquet").exists():
        rates = _parquet(_read(folder / "patterns.parquet"), "patterns.parquet")
        if not {"name", "role", "pass_rate"} <= set(rates.columns):
            raise PosteriorError("patterns.parquet: needs name, role and pass_rate columns")
        patterns = [{"name": str(n), "role": str(r), "pass_rate": float(p)}
                    for n, r, p in zip(rates["name"], rates["role"], rates["pass_rate"])]
    return {"folder": str(folder), "sha256": hashlib.sha256(raw).hexdigest(), "paths": paths,
            "values": values.tolist(), "weights": weights.tolist(), "patterns": patterns}


def fill_particles(data, source: str, base=None):
    """`data` (a scenario mapping) with its `behaviour.particles` read from the posterior
    folder, when it names one and carries no particles yet (ScenarioError otherwise). `base`
    is the folder a relative PATH is read from: the scenario file's, by default."""
    from sim.scenario.loading import ScenarioError

    behaviour = data.get("behaviour") if isinstance(data, dict) else None
    if not isinstance(behaviour, dict) or "particles" in behaviour \
            or not isinstance(behaviour.get("posterior"), str) or not behaviour["posterior"]:
        return data
    if base is None:
        base = Path(source).parent if not source.startswith("<") else Path(".")
    try:
        particles = read_posterior(behaviour["posterior"], base)
    except PosteriorError as exc:
        raise ScenarioError(source, [f"behaviour.posterior: {exc}"]) from None
    return {**data, "behaviour": {**behaviour, "particles": particles}}
