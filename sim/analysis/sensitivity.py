"""Global sensitivity analysis: which uncertain inputs decide whether a partnership succeeds.

A factor is one of the scenario's uncertain inputs, or a group of them. Factors are sampled in
quantile space: SALib draws a number u in [0, 1] for each, and the input takes the value its
declared distribution has at quantile u (`--factor PATH=LOW:HIGH` declares a uniform range first).
So the indices answer "across the whole range the scenario admits for each input".

Design point p is evaluated over R replications of the vectorised engine. Replication r of
point p draws its noise from the stream (root seed, sample p, replication r), so a sweep is
reproducible and gives the same indices however its points are spread over workers or a Dask
cluster. The sampling and the analysis are SALib's (ProblemSpec), not re-implemented.

Inputs that are not factors (under `grid`, every uncertain input but the two mapped) keep being
drawn from each replication's own stream, exactly as in `collabsim run`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

from sim.montecarlo import files
from sim.montecarlo.executors import Executor, as_executor
from sim.montecarlo.memory import default_chunk_size, workers_for
from sim.partnership.inputs import resolve_batch, uncertain_leaves, uncertain_paths
from sim.scenario.distributions import is_uncertain
from sim.scenario.fields import sampled_paths, with_values
from sim.scenario.loading import ScenarioError, as_scenario
from sim.scenario.output_names import OUTPUTS  # noqa: F401 - what a point's runs are summarised to
from sim.scenario.schema import Scenario, suggest

METHODS = ("sobol", "morris", "fast", "rbd_fast", "delta", "pawn")
#: The index each method ranks factors by, and its confidence column (None: no CI).
RANK_BY = {"sobol": ("ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf"),
           "fast": ("ST", "ST_conf"), "rbd_fast": ("S1", "S1_conf"),
           "delta": ("delta_raw", "delta_raw_conf"), "pawn": ("median", None)}
#: Methods whose SALib analysis supports grouped factors; the others treat each input alone.
GROUPED_METHODS = ("sobol", "morris")
#: A sweep resolves its ranking when every ranking index's 95% CI half-width is at most this.
ADEQUATE_HALF_WIDTH = 0.05


class FactorError(ValueError):
    """A --factor / --x / --y that names no numeric field, or a bad range."""


# --- factors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorSpec:
    """`PATH=LOW:HIGH`: make a numeric field uniform on [LOW, HIGH] and a factor."""

    path: str
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> "FactorSpec":
        m = re.fullmatch(r"\s*([^=]+?)\s*=\s*([^:]+):([^:]+)\s*", text)
        if not m:
            raise FactorError(f"{text!r}: write PATH=LOW:HIGH, e.g. partners.*.resourcing=0.1:0.6")
        try:
            low, high = float(m.group(2)), float(m.group(3))
        except ValueError:
            raise FactorError(f"{text!r}: LOW and HIGH must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise FactorError(f"{text!r}: need finite LOW <= HIGH")
        return cls(m.group(1), low, high)


def numeric_paths(scenario: Scenario) -> list[str]:
    """Every path a factor may name: the fields that may be uncertain inputs
    (sim.scenario.fields)."""
    return sampled_paths(scenario)


def with_factors(scenario, specs: list[FactorSpec]) -> tuple[Scenario, dict[str, str]]:
    """The scenario with each spec's field made uniform on its range, and the group of each
    path set through `partners.*` ({uncertain path: group name})."""
    scenario = as_scenario(scenario)
    if not specs:
        return scenario, {}
    known = numeric_paths(scenario)
    uncertain = set(uncertain_paths(scenario))
    values, groups = {}, {}
    for spec in specs:
        if spec.path not in known:
            raise FactorError(f"{spec.path}: not a numeric field of the scenario"
                              f"{suggest(spec.path, known)}")
        values[spec.path] = {"uniform": [spec.low, spec.high]}
        if spec.low == spec.high and spec.path not in uncertain:
            values[spec.path] = spec.low  # pinning a fixed number must not add an input
        if spec.path.startswith("partners.*."):
            leaf = spec.path[len("partners.*."):]
            groups.update({f"partners.{name}.{leaf}": spec.path
                           for name in scenario.partner_names()})
    try:
        return with_values(scenario, values, f"{scenario.name} with factors"), groups
    except ScenarioError as exc:
        raise FactorError("; ".join(exc.problems)) from None


@dataclass
class Factors:
    """The uncertain inputs a design sets (columns of the input block) and their factors."""

    scenario: Scenario
    names: list[str]                  # one per uncertain input set by the design
    columns: np.ndarray               # their positions among the scenario's uncertain inputs
    groups: list[str]                 # the factor each belongs to (== names if ungrouped)
    bounds: dict[str, tuple] = field(default_factory=dict)  # factor -> (low, high) in values

    @property
    def factor_names(self) -> list[str]:
        return list(dict.fromkeys(self.groups))


def sweep_factors(scenario, specs: list[FactorSpec] = ()) -> Factors:
    """Every uncertain input of the scenario (after `specs`) is a factor; partners drawn from
    one `population` are exchangeable, so each of their traits is one grouped factor."""
    base = as_scenario(scenario)
    scenario, groups = with_factors(base, list(specs))
    named = {f.path for f in specs}     # factors the user named stay their own factor
    names = uncertain_paths(scenario)
    if not names:
        raise FactorError(f"{scenario.name}: has no uncertain inputs to vary; add ranges to the "
                          "scenario or give --factor PATH=LOW:HIGH")
    if base.population is not None:
        for n in names:
            m = re.fullmatch(r"(?:partners\.[^.]+|partner_similarity)\.(.+)", n)
            if m and n not in groups and n not in named:
                groups[n] = f"partners.*.{m.group(1)}"
    grouping = [groups.get(n, n) for n in names]
    return Factors(scenario, names, np.arange(len(names)), grouping, _bounds(scenario, grouping))


def _bounds(scenario: Scenario, grouping: list[str]) -> dict:
    """Value range of each factor (for tables): the distribution's support."""

    leaves = [x for x in uncertain_leaves(scenario) if is_uncertain(x)]
    out = {}
    for leaf, group in zip(leaves, grouping):
        lo, hi = leaf.bounds()
        old = out.get(group, (lo, hi))
        out[group] = (min(old[0], lo), max(old[1], hi))
    return out


# --- evaluating design points ---------------------------------------------------------------


#: Suffixes of the per-point 95% CI bounds that evaluate_points also gives: ask for
#: "p_deliver_ci_low" and "p_deliver_ci_high" beside "p_deliver" (see interval_names).
CI_SUFFIXES = ("_ci_low", "_ci_high")


def interval_names(outputs) -> tuple[str, ...]:
    """Each output followed by the names of its 95% CI bounds, for evaluate_points."""
    return tuple(name for o in outputs for name in (o, *(o + s for s in CI_SUFFIXES)))


def evaluate_points(scenario: Scenario, seed: int, design: np.ndarray, columns: np.ndarray,
                    first_point: int, replications: int, outputs: tuple[str, ...],
                    exact: bool = False) -> np.ndarray:
    """Outputs [P, len(outputs)] of design points first_point.. (design rows in [0, 1], one
    column per uncertain input in `columns`), each over `replications` runs. A top-level
    function so executors can send it to workers.

    Besides the OUTPUTS, `outputs` may name the bounds of an output's 95% CI over the point's
    runs, "OUTPUT_ci_low" and "OUTPUT_ci_high": a Wilson interval for the shares (p_*), a
    normal interval from the runs' standard error for the means, and for the median the
    distribution-free interval between two order statistics
    (sim.montecarlo.statistics.median_ranks).
    `exact`: the design sets values, not the run's uniforms (see engine.draw)."""
    from sim.analysis.evaluation import evaluate_rows

    P = len(design)
    base = tuple(dict.fromkeys(_base_output(name) for name in outputs))
    found = evaluate_rows(scenario, seed, design, columns, np.arange(first_point, first_point + P),
                          replications, base, scenario.horizon, intervals=True, exact=exact)
    values = {}
    for j, o in enumerate(base):
        low, high = (o + suffix for suffix in CI_SUFFIXES)
        values[o], values[low], values[high] = found[:, 3 * j:3 * j + 3].T
    return np.column_stack([values[name] for name in outputs])


def _base_output(name: str) -> str:
    """The output a column name belongs to ("p_deliver_ci_low" -> "p_deliver")."""
    for suffix in CI_SUFFIXES:
        if name.endswith(suffix) and name[:-len(suffix)] in OUTPUTS:
            return name[:-len(suffix)]
    if name not in OUTPUTS:
        raise ValueError(f"outputs must be among {', '.join(OUTPUTS)} (or OUTPUT_ci_low, "
                         f"OUTPUT_ci_high), got {name!r}")
    return name


def evaluate_design(scenario: Scenario, seed: int, design: np.ndarray, columns, replications: int,
                    outputs: tuple[str, ...], *, executor: Optional[Executor] = None,
                    checkpoint: Optional[Path] = None, exact: bool = False) -> np.ndarray:
    """Every design point's outputs, in chunks run where `executor` says (progress in design
    points; `exact`: see evaluate_points). With a `checkpoint`
    folder each chunk's outputs are saved there as they finish and chunks already saved are not
    run again, so an interrupted sweep resumes where it stopped (and ends identical)."""

    executor = as_executor(executor)
    columns = np.asarray(columns)
    per_chunk = max(1, default_chunk_size(scenario, "vector") // replications)
    executor = executor.at_most(workers_for(   # a point's runs are one chunk at least
        scenario, "vector", per_chunk * replications, executor.workers, setting="--replications"))
    starts = range(0, len(design), per_chunk)
    result = np.empty((len(design), len(outputs)))
    done = 0
    saved = {}
    if checkpoint:
        _claim_checkpoint(Path(checkpoint), scenario, seed, design, columns, replications,
                          outputs, per_chunk)
        saved = {a: _checkpoint_part(checkpoint, a) for a in starts}
    for a, path in saved.items():
        if path.is_file():
            values = np.load(path)
            result[a:a + len(values)] = values
            done += len(values)
    tasks = {a: (evaluate_points, (scenario, seed, design[a:a + per_chunk], columns, a,
                                   replications, outputs, exact))
             for a in starts if not (checkpoint and saved[a].is_file())}
    executor.progress(done, len(design))
    for a, values in executor.execute(tasks):
        if checkpoint:
            files.write_npy(values, saved[a])
        result[a:a + len(values)] = values
        done += len(values)
        executor.progress(done, len(design))
    return result


def _checkpoint_part(folder: Path, start: int) -> Path:
    return Path(folder) / f"points-{start:08d}.npy"


def _claim_checkpoint(folder: Path, scenario, seed, design, columns, replications, outputs,
                      per_chunk) -> None:
    """Make sure saved points belong to this very design (same scenario, seed, points, runs
    and chunks); a checkpoint folder from another sweep is refused, never mixed in."""

    digest = hashlib.sha256()
    for part in (scenario.model_dump_json(), seed, replications, outputs, per_chunk,
                 np.asarray(columns).tolist()):
        digest.update(repr(part).encode())
    digest.update(np.ascontiguousarray(design, dtype=float).tobytes())
    mark = folder / "design.sha256"
    if mark.is_file():
        if files.read_json(mark) != digest.hexdigest():
            raise ValueError(f"{folder}: these saved points belong to a different sweep")
        return
    folder.mkdir(parents=True, exist_ok=True)
    files.write_json(mark, digest.hexdigest())


# --- the sweep -----------------------------------------------------------------------------


@dataclass
class SweepResult:
    problem: object            # the SALib ProblemSpec, with samples, results and analysis
    factors: Factors
    method: str
    outputs: tuple[str, ...]
    indices: pd.DataFrame      # one row per (output, factor), ranked
    design: pd.DataFrame       # every design point: each input's value and quantile, outputs
    adequacy: dict             # per output: widest CI half-width, adequate?, suggested samples
    settings: dict
    notes: list = field(default_factory=list)  # outputs not analysed, and why; then what SALib
    #                                             printed or warned during the analysis
    second_order: Optional[pd.DataFrame] = None  # Sobol S2 for each pair of factors, if asked
    skipped: dict = field(default_factory=dict)  # {output: why it was not analysed}

    @property
    def salib_notes(self) -> list[str]:
        """What SALib printed or warned (the notes that follow those of skipped outputs)."""
        return self.notes[len(self.skipped):]

    @property
    def tables(self) -> dict:
        """The indices, the design (every point, its inputs and outputs) and, if asked, Sobol's
        second-order indices."""
        tables = {"indices": self.indices, "design": self.design}
        if self.second_order is not None:
            tables["indices_second_order"] = self.second_order
        return tables

    def _top(self) -> dict:
        return {o: self.indices[self.indices["output"] == o].head(5) for o in self.outputs}

    @property
    def summary(self) -> dict:
        """Each output's sample-size verdict (adequacy), top factors and, for those not
        analysed, why; what SALib noted."""
        rank = RANK_BY[self.method][0]
        top = self._top()
        headline = [[f"{o}: top factors", ", ".join(
            f"{r['factor']} ({rank} {r[rank]:.3f})" for _, r in frame.head(3).iterrows())]
            for o, frame in top.items()]
        headline += [[f"{o}: not analysed", why] for o, why in self.skipped.items()]
        return {"adequacy": self.adequacy, "headline": headline, "skipped": self.skipped,
                "notes": self.salib_notes,   # the skipped outputs are in the headline
                "top": {o: frame.to_dict(orient="records") for o, frame in top.items()}}

    @property
    def message(self) -> str:
        """The leading factor of the first analysed output, and the sample-size verdict."""
        if not self.outputs:
            return "no output could be analysed: " + "; ".join(
                f"{o}: {why}" for o, why in self.skipped.items())
        o, rank = self.outputs[0], RANK_BY[self.method][0]
        lead = self.indices[self.indices["output"] == o].iloc[0]
        return f"{o} depends most on {lead['factor']} ({rank} {lead[rank]:.3f}); {self.verdict(o)}"

    def large_enough(self, output: str = "p_deliver") -> Optional[bool]:
        """Whether the sample was large enough to rank every factor for `output` (None if the
        method gives no intervals to judge by, or the output was not analysed)."""
        a = self.adequacy.get(output)
        return None if a is None or not a["checked"] else bool(a["adequate"])

    def verdict(self, output: str = "p_deliver") -> str:
        """The sample-size verdict for `output`, in words: large enough to rank the factors,
        or how wide the widest interval is, whether the leader is clear anyway, and how many
        samples would do (what `collabsim sweep` prints and a notebook shows)."""
        a = self.adequacy.get(output)
        if a is None:
            return f"sample size: not judged ({output} was not analysed)"
        if not a["checked"]:
            return f"sample size: not checked ({a['why']})"
        if a["adequate"]:
            return (f"sample size: large enough to rank the factors (every 95% CI within "
                    f"± {a['widest_half_width']:.3f})")
        lead = "the leading factor is clear, but " if a["leader_clear"] else ""
        return (f"{lead}the 95% CIs are too wide to rank all the factors (widest "
                f"± {a['widest_half_width']:.3f}, for {a['widest_factor']}; ranking needs "
                f"± {ADEQUATE_HALF_WIDTH:g}); about {a['suggested_samples']} samples would do "
                f"(--samples {a['suggested_samples']})")


def sweep(scenario, method: str = "sobol", samples: int = 1024, replications: int = 64,
          outputs=("p_deliver",), factors: list = (), seed: Optional[int] = None,
          second_order: bool = False, *, executor: Optional[Executor] = None,
          checkpoint: Optional[Path] = None,
          on_evaluated: Optional[Callable[[pd.DataFrame], None]] = None) -> SweepResult:
    """Global sensitivity of `outputs` to the scenario's uncertain inputs, with SALib.
    With a `checkpoint` folder, finished design points are kept there and an interrupted
    sweep called again with the same arguments resumes (see evaluate_design).
    `on_evaluated` is given the design table (see design_table) as soon as every point is
    evaluated, before any analysis, so that it can be saved whatever the analysis does.

    Each output is analysed on its own: one that is the same at every point, or whose analysis
    SALib cannot do (say delta's "Singular matrix" on a nearly constant output), is skipped
    with a note (`skipped`, `notes`) and the others are analysed. If none can be, the result
    has no indices (`outputs` is empty) but still the whole design.

    `samples` is SALib's N (Sobol: N (D + 2) points, or N (2D + 2) with second order; Morris: N
    trajectories; FAST: N per factor; RBD-FAST, delta and PAWN: N Latin-hypercube points).
    `factors` adds or overrides factors (FactorSpec or "PATH=LOW:HIGH"). The settings are
    checked before SALib (and SciPy) load, so that a bad one is refused at once."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    outputs = tuple(outputs)
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown or not outputs:
        raise ValueError(f"outputs must be among {', '.join(OUTPUTS)}, got {unknown or 'none'}")
    if samples < 2 or replications < 1:
        raise ValueError("samples must be at least 2 and replications at least 1")
    if method == "sobol" and samples & (samples - 1):
        below = 1 << (samples.bit_length() - 1)
        raise ValueError(f"--samples {samples}: Sobol sampling needs a power of two (Saltelli's "
                         f"scheme loses its convergence otherwise); try {below} or {below * 2}")
    if method == "fast" and samples <= 64:
        raise ValueError("FAST needs samples > 64 (SALib: N > 4 M^2 with M = 4)")
    specs = [f if isinstance(f, FactorSpec) else FactorSpec.parse(f) for f in factors]
    fac = sweep_factors(scenario, specs)
    if method not in GROUPED_METHODS:  # each input is its own factor
        fac.groups = list(fac.names)
        fac.bounds = _bounds(fac.scenario, fac.groups)
    sc = fac.scenario
    seed = sc.seed if seed is None else int(seed)
    grouped = fac.groups != fac.names
    from SALib import ProblemSpec

    problem = ProblemSpec({
        "names": fac.names, "bounds": [[0.0, 1.0]] * len(fac.names), "outputs": list(outputs),
        **({"groups": fac.groups} if grouped else {}),
    })
    with salib_seeded(seed) as s_seed:
        return _sweep(problem, fac, specs, method, samples, replications, outputs, seed,
                      s_seed, second_order, executor, checkpoint, on_evaluated)


@contextmanager
def salib_seeded(seed: int):
    """The seed to give SALib's samplers and analyses for a root seed, NumPy's global random
    state restored afterwards. SALib treats seed 0 as "no seed" (and seeds NumPy's global
    generator): it gets a non-zero 32-bit seed derived from the root seed."""
    global_state = np.random.get_state()
    try:
        yield int(seed) % (2**32 - 1) + 1
    finally:
        np.random.set_state(global_state)


def _sweep(problem, fac, specs, method, samples, replications, outputs, seed, salib_seed,
           second_order, executor, checkpoint, on_evaluated) -> SweepResult:
    sc = fac.scenario
    s_seed = salib_seed
    sampler = {"sobol": lambda: problem.sample_sobol(samples, calc_second_order=second_order,
                                                      seed=s_seed),
               "morris": lambda: problem.sample_morris(samples, num_levels=4, seed=s_seed),
               "fast": lambda: problem.sample_fast(samples, M=4, seed=s_seed)}
    sampler.get(method, lambda: problem.sample_latin(samples, seed=s_seed))()
    X = np.asarray(problem.samples)
    Y = evaluate_design(sc, seed, X, fac.columns, replications, outputs, executor=executor,
                        checkpoint=checkpoint)
    design = design_table(sc, fac.names, X, outputs, Y)
    if on_evaluated is not None:
        on_evaluated(design)
    options = {"sobol": {"calc_second_order": second_order}, "morris": {"num_levels": 4},
               "fast": {"M": 4}, "delta": {"method": "delta"}}.get(method, {})
    analyses, skipped, salib_notes = {}, {}, []
    for o, y in zip(outputs, Y.T):
        why = _unanalysable(y)
        if why is None:
            try:
                analyses[o], printed = _analyse(problem, method, X, o, y,
                                                {**options, "seed": s_seed})
                salib_notes += printed
            except MemoryError:
                raise
            except Exception as exc:   # SALib's own failure on this output's values
                why = f"SALib's {method} analysis failed ({type(exc).__name__}: {exc})" \
                    + _mostly(y)
        if why is not None:
            skipped[o] = why
    analysed = tuple(analyses)
    if analysed:   # result.problem holds the analysed outputs' results and analyses, as if
        problem["outputs"] = list(analysed)      # they had been analysed all at once
        problem.set_results(Y[:, [outputs.index(o) for o in analysed]] if len(analysed) > 1
                            else Y[:, outputs.index(analysed[0])])
        replay = iter(analyses.values())         # ProblemSpec.analyze goes output by output
        problem.analyze(lambda _spec, Y: next(replay))
    notes = [skipped_note(o, why) for o, why in skipped.items()] \
        + list(dict.fromkeys(salib_notes))
    indices = _indices_table(problem, fac, method, analysed)
    settings = {"method": method, "samples": samples, "points": len(X),
                "replications": replications, "outputs": list(outputs),
                "analysed_outputs": list(analysed), "seed": seed,
                "second_order": second_order, "factors": [f"{s.path}={s.low}:{s.high}"
                                                          for s in specs]}
    pairs = _second_order_table(problem, analysed) \
        if method == "sobol" and second_order and analysed else None
    return SweepResult(problem, fac, method, analysed, indices, design,
                       _adequacy(indices, method, samples), settings, notes, pairs, skipped)


def design_table(scenario: Scenario, names: list[str], X: np.ndarray, outputs,
                 Y: np.ndarray) -> pd.DataFrame:
    """Every design point: for each uncertain input, the value it took (column PATH, in the
    field's units) beside its quantile (column u:PATH, SALib's sample), then the outputs.
    The quantiles re-create the design for SALib: design.filter(like="u:")."""
    values = input_values(scenario, X)
    columns = {"point": np.arange(len(X))}
    for j, name in enumerate(names):
        columns[name] = values[:, j]
        columns[f"u:{name}"] = X[:, j]
    columns.update(zip(outputs, Y.T))
    return pd.DataFrame(columns)


def input_values(scenario: Scenario, quantiles: np.ndarray, rows: int = 10_000) -> np.ndarray:
    """The value each uncertain input takes at the given quantiles [points, inputs] (every
    uncertain input, in uncertain_paths order), exactly as a sweep's run resolves them: its
    distribution's value at the quantile; for a trait correlated across partners
    (partner_similarity), the value after mixing in the partnership-wide quantile."""

    quantiles = np.asarray(quantiles, dtype=float)
    parts = [resolve_batch(scenario, quantiles[a:a + rows]).sampled
             for a in range(0, len(quantiles), rows)]
    return np.concatenate(parts) if parts else np.zeros((0, quantiles.shape[1]))


def skipped_note(output: str, why: str) -> str:
    """The note that says an output was not analysed, and why."""
    return f"{output}: not analysed: {why}; its values are in the design table"


def _unanalysable(y: np.ndarray) -> Optional[str]:
    """Why an output's values cannot be analysed at all, or None."""
    bad = int(np.sum(~np.isfinite(y)))
    if bad:
        return f"not a number at {bad} of {len(y)} design points"
    if np.ptp(y) == 0:
        return f"the same ({y[0]:g}) at every design point: nothing to analyse"
    return None


def _mostly(y: np.ndarray) -> str:
    """'; nearly constant: 1 at 29 of 32 design points' when one value is at least half of an
    output's values (what makes SALib's estimators break down), else ''."""
    values, counts = np.unique(y, return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] * 2 < len(y):
        return ""
    return f"; nearly constant: {values[top]:g} at {counts[top]} of {len(y)} design points"


def _analyse(problem, method: str, X: np.ndarray, output: str, y: np.ndarray,
             options: dict) -> tuple[object, list[str]]:
    """SALib's analysis of one output (on a ProblemSpec of that output alone), and what it
    printed or warned."""
    from SALib import ProblemSpec

    grouped = problem.get("groups") not in (None, problem["names"])
    one = ProblemSpec({"names": problem["names"], "bounds": problem["bounds"],
                       **({"groups": problem["groups"]} if grouped else {}),
                       "outputs": [output]}).set_samples(X).set_results(y)
    printed = _quietly(lambda: getattr(one, f"analyze_{method}")(**options))
    return one.analysis, printed


def _second_order_table(problem, outputs) -> pd.DataFrame:
    """Sobol second-order indices, one row per output and pair of factors, largest first."""
    analysis = problem.analysis if len(outputs) > 1 else {outputs[0]: problem.analysis}
    rows = []
    for o in outputs:
        res = analysis[o]
        names = list(res.get("names", problem["groups"] or problem["names"]))
        names = list(dict.fromkeys(names))
        S2, conf = np.asarray(res["S2"]), np.asarray(res["S2_conf"])
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append({"output": o, "factor": names[i], "with": names[j],
                             "S2": float(S2[i, j]), "S2_conf": float(conf[i, j])})
    table = pd.DataFrame(rows)
    return table.sort_values(["output", "S2"], ascending=[True, False], ignore_index=True)


def _quietly(analysis) -> list[str]:
    """Run a SALib analysis, keeping what it prints or warns as notes (stdout is for results)."""

    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        analysis()
    lines = [ln.strip() for ln in printed.getvalue().splitlines() if ln.strip()]
    return list(dict.fromkeys(lines + [f"{w.category.__name__}: {w.message}" for w in caught]))


def _indices_table(problem, fac: Factors, method: str, outputs) -> pd.DataFrame:
    if not outputs:
        return pd.DataFrame(columns=["output", "factor", "rank", "range"])
    analysis = problem.analysis if len(outputs) > 1 else {outputs[0]: problem.analysis}
    rank, _ = RANK_BY[method]
    frames = []
    for o in outputs:
        res = analysis[o]
        names = list(res.get("names", fac.factor_names))
        cols = {k: np.asarray(v, dtype=float) for k, v in res.items()
                if k not in ("names", "S2", "S2_conf") and np.ndim(v) == 1
                and len(v) == len(names) and np.asarray(v).dtype.kind in "fiub"}
        frame = pd.DataFrame({"output": o, "factor": names, **cols})
        frame["range"] = [_fmt_range(fac.bounds.get(n)) for n in names]
        frame = frame.sort_values(rank, ascending=False, kind="stable", ignore_index=True)
        frame.insert(2, "rank", np.arange(1, len(frame) + 1))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _fmt_range(bounds) -> str:
    return "" if bounds is None else f"{bounds[0]:g} to {bounds[1]:g}"


def _adequacy(indices: pd.DataFrame, method: str, samples: int) -> dict:
    """Is the sample large enough to rank the factors? CI half-widths shrink as 1/sqrt(N)."""
    rank, conf = RANK_BY[method]
    out = {}
    for o, frame in indices.groupby("output", sort=False):
        if conf is None or conf not in frame:
            out[o] = {"checked": False, "why": f"{method} gives no confidence intervals"}
            continue
        scale = 1.0
        if method == "morris":  # mu* is in output units: judge it relative to the largest
            scale = max(float(frame[rank].max()), 1e-12)
        half = frame[conf].to_numpy(float) / scale
        if not np.isfinite(half).any():
            out[o] = {"checked": False, "why": "SALib gave no finite confidence intervals"}
            continue
        widest = float(np.nanmax(half))
        ok = widest <= ADEQUATE_HALF_WIDTH
        need = samples * (widest / ADEQUATE_HALF_WIDTH) ** 2
        suggest = samples if ok else int(2 ** math.ceil(math.log2(max(need, samples + 1))))
        value = frame[rank].to_numpy(float) / scale
        leader_clear = len(value) < 2 or bool(value[0] - half[0] > value[1] + half[1])
        out[o] = {"checked": True, "widest_half_width": widest,
                  "widest_factor": str(frame["factor"].iloc[int(np.nanargmax(half))]),
                  "adequate": ok, "leader_clear": leader_clear,
                  "suggested_samples": suggest, "relative": method == "morris"}
    return out
