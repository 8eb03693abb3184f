"""Calibration results folders for tests of `behaviour: {posterior: PATH}`."""

import json
from pathlib import Path

import pandas as pd

import sim
from sim.scenario.loading import read_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_POSTERIOR = ROOT / "patterns" / "calibrations" / "public_sector"


def calibration_folder(folder: Path, posterior: dict, patterns=None, kind="calibrate") -> Path:
    """A folder laid out as `collabsim calibrate` leaves one: posterior.parquet (a column per
    path and `weight`), patterns.parquet and manifest.json."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    pd.DataFrame(posterior).to_parquet(folder / "posterior.parquet", index=False)
    pd.DataFrame(patterns or [{"name": "typical delivers", "role": "calibrate",
                               "pass_rate": 0.9},
                              {"name": "more skills", "role": "validate", "pass_rate": 0.5}]
                 ).to_parquet(folder / "patterns.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps({"kind": kind}))
    return folder


def with_posterior(scenario_path, folder) -> "sim.Scenario":
    """The scenario file at `scenario_path` with `behaviour: {posterior: folder}`."""
    data = read_yaml(scenario_path)
    data["behaviour"] = {"posterior": str(folder)}
    return sim.scenario_from_dict(data, source=str(scenario_path))
