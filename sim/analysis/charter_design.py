"""Charter design: search the space of charters for robust ones that every partner would sign.

The question an architect is asked is "which charter should we sign?", not "which of these two
is better?". Robust decision making answers it by searching the space of choices under deep
uncertainty (Kasprzyk et al. 2013; EMA Workbench's robust optimisation); a partnership adds that
there are several decision makers and each must prefer signing to staying out. Here:

* **Charters.** The levers (sim.analysis.levers) span the space: each candidate is the draft with
some
  clauses changed. With an edit budget k, a candidate changes at most k clauses; each lever
  then carries a "changed" gene, so the search can keep a clause exactly as drafted.
* **Futures.** Every candidate is judged on the same futures (common random numbers,
  sim.analysis.charter_futures) against the draft's business case, net of what the charter costs.
* **Objectives** over those futures: P(deliver) (maximised), expected net savings (£m,
  maximised) and fairness, the worst partner's 90th-percentile regret (£m, minimised): in each
  future a partner's regret is how much less it got than under the best charter of a
  reference set of charters (the draft and a random sample of the space) in that future; a
  charter is as fair as the partner it treats worst, in its bad futures (90th percentile).
* **Constraints.** Individual rationality: every partner better off than staying out (net money
  above zero) in at least `sign_share` of futures. The edit budget, if any.
* **Search.** epsilon-NSGA-II from platypus (the algorithm and library the EMA Workbench uses;
  platypus is installed with it, takes mixed real, integer and categorical variables, and its
  Evaluator interface lets a whole generation run as one batch on our executors; pymoo would
  add a dependency for no gain here). A categorical clause is a platypus Subset of size 1 of
  its choices' indices (platypus' Replace mutation iterates a set of the elements, and a set of
  text is ordered differently in every Python process: with the choices themselves the search
  would not repeat); every table and figure reports the choices, never indices.
* **Noise.** A candidate's objectives come from finitely many futures. After the search, the
  candidates that could be on the front are resampled (a bootstrap over futures, the same
  resample for every candidate, so pairing is kept): those whose membership of the front is
  unclear (in it in more than 5% and less than 95% of resamples) get twice the futures, and so
  on up to `max_replications`; candidates clearly off the front get no more runs.
* **Restarts as evidence.** The search runs from `seeds` seeds, each on its own futures and its
  own random choices; their final charters are re-evaluated together on a large fresh sample of
  futures none of them saw. Each seed's share of the pooled front's hypervolume on that sample
  says whether the searches agree (converged) or more evaluations are needed.
* **Results** (on the fresh sample): the non-dominated charters that every partner would sign,
  each with its changed clauses, P(deliver) with its interval, net savings, every partner's
  regret and chance of being better off, a satisficing score (delivers and every partner gains),
  paired differences against the draft and any `against` charter, and the conditions under which
  it fails (PRIM on its fresh futures, sim.analysis.discovery).
"""

from __future__ import annotations

import contextlib
import random
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from sim.analysis.charter_futures import Ledger, charter_key
from sim.analysis.levers import Lever
from sim.scenario.schema import Scenario

OBJECTIVES = {
    "p_deliver": "P(deliver)",
    "net_savings_m": "expected net savings, £m",
    "worst_regret_m": "worst partner's 90th-percentile regret, £m",
}
#: +1 maximised, -1 minimised.
SENSE = np.array([1.0, 1.0, -1.0])
REGRET_QUANTILE = 0.9
#: Search seed k judges charters on replications k * STRIDE + r; the fresh sample starts at FRESH.
STRIDE = 10_000_000
FRESH = 1_000_000_000
#: Random charters (besides the draft) in each seed's regret reference set and first generation.
REFERENCE = 15
#: A charter is on the front "clearly" in at least this share of bootstrap resamples, clearly
#: off it in at most 1 - this share.
CLEAR = 0.95
#: At most this many candidates take part in resolving the front (the best by front rank).
CONTENDERS = 160
#: Rows compared at once when sorting charters into fronts.
BLOCK = 256
#: The seeds agree when each one's front has at least this share of the pooled front's
#: hypervolume on the fresh sample.
AGREE = 0.9
DEFAULTS = dict(seeds=3, population=24, evaluations=1000, replications=100,
                max_replications=800, final_replications=2000, bootstrap=200, sign_share=0.5)


# --- the space of charters ---------------------------------------------------------------------


class CharterSpace:
    """The levers as platypus decision variables, and candidates as clause values."""

    def __init__(self, draft: Scenario, levers: Sequence[Lever], budget: Optional[int]):
        self.draft, self.levers, self.budget = draft, list(levers), budget

    def types(self) -> list:
        from platypus import Binary, Integer, Real, Subset

        types = []
        for lever in self.levers:
            if lever.kind == "range":
                types.append(Real(lever.low, lever.high))
            elif lever.kind == "integers":
                types.append(Integer(lever.low, lever.high))
            else:   # indices, not the choices: platypus' Replace mutation iterates a set of
                # the elements, whose order for text changes from one process to the next
                types.append(Subset(list(range(len(lever.values))), 1))
        if self.budget is not None:
            types += [Binary(1) for _ in self.levers]
        return types

    def values(self, decoded: list) -> dict:
        """A candidate's clause values from its decoded variables."""
        values = {}
        for i, lever in enumerate(self.levers):
            v = decoded[i]
            v = lever.values[v[0]] if lever.kind == "values" else v
            v = float(v) if lever.kind == "range" else int(v) if lever.kind == "integers" else v
            if self.budget is not None and not decoded[len(self.levers) + i][0]:
                v = lever.draft
            values[lever.path] = v
        return values

    def encoded(self, values: dict) -> list:
        """Encoded variables of a candidate (for platypus' initial population)."""
        types = self.types()
        out = []
        for i, lever in enumerate(self.levers):
            v = values[lever.path]
            if self.budget is not None and lever.same(v, lever.draft) and not self._in(lever, v):
                v = self._any(lever)          # unchanged: the value gene does not matter
            if lever.kind == "values":
                v = [next(j for j, x in enumerate(lever.values) if lever.same(v, x))]
            out.append(types[i].encode(v))
        if self.budget is not None:
            out += [[not lever.same(values[lever.path], lever.draft)] for lever in self.levers]
        return out

    @staticmethod
    def _in(lever: Lever, v) -> bool:
        if lever.kind == "values":
            return any(lever.same(v, x) for x in lever.values)
        return lever.low <= v <= lever.high

    @staticmethod
    def _any(lever: Lever):
        return lever.values[0] if lever.kind == "values" else lever.low

    def draft_values(self) -> dict:
        return {lever.path: lever.draft for lever in self.levers}

    def random_values(self, rng: np.random.Generator) -> dict:
        """A charter drawn uniformly from the space (with a budget: a uniform number of
        changed clauses up to it, then those clauses uniformly)."""
        values = self.draft_values()
        chosen = range(len(self.levers))
        if self.budget is not None:
            k = int(rng.integers(1, self.budget + 1))
            chosen = sorted(rng.choice(len(self.levers), size=k, replace=False).tolist())
        for i in chosen:
            lever = self.levers[i]
            if lever.kind == "range":
                values[lever.path] = float(lever.low + rng.random() * (lever.high - lever.low))
            elif lever.kind == "integers":
                values[lever.path] = int(rng.integers(lever.low, lever.high + 1))
            else:
                values[lever.path] = lever.values[int(rng.integers(len(lever.values)))]
        return values

    def holds(self, values: dict) -> bool:
        """Whether the space has this charter (with a budget, a clause kept as drafted always
        is; without, a drafted value outside a lever's range or list is not)."""
        return all((self.budget is not None and lever.same(values[lever.path], lever.draft))
                   or self._in(lever, values[lever.path]) for lever in self.levers)

    def changed(self, values: dict) -> list[str]:
        return [lever.path for lever in self.levers if not lever.same(values[lever.path],
                                                                       lever.draft)]

    def scenario(self, values: dict) -> Scenario:
        return self.draft.with_values(values, source=f"{self.draft.name} (a candidate charter)")


# --- objectives on futures --------------------------------------------------------------------


def objectives(futures: dict, best: np.ndarray) -> np.ndarray:
    """[C, 3] objectives of C candidates from their futures ({name: [C, R, ...]}) and the best
    money any reference charter gave each partner in each future (`best` [R, n])."""
    regret = np.maximum(best[None] - futures["money"], 0.0)               # [C, R, n]
    worst = np.quantile(regret, REGRET_QUANTILE, axis=1).max(axis=1)
    return np.column_stack([futures["delivered"].mean(axis=1), futures["net"].mean(axis=1),
                            worst])


def better_off(futures: dict) -> np.ndarray:
    """[C, n] share of futures in which each partner is better off than staying out."""
    return (futures["money"] > 0).mean(axis=1)


def nondominated(points: np.ndarray, feasible: np.ndarray, margins=0.0) -> np.ndarray:
    """Which rows of `points` ([C, 3], in OBJECTIVES' senses) no feasible row dominates
    (infeasible rows are never on the front). With `margins` (one per objective), a row
    dominates another only if it is at least as good in every objective and better by more
    than the margin in one: charters closer than that are the same answer, not rivals."""
    x = points * SENSE
    ok = np.asarray(feasible, bool)
    rivals = x[ok]
    dominated = np.zeros(len(x), bool)
    for a in range(0, len(rivals), BLOCK):     # a block of rivals at a time: memory stays small
        r = rivals[a:a + BLOCK, None, :]
        dominated |= ((r >= x[None]).all(axis=2)
                      & (r > x[None] + np.asarray(margins)).any(axis=2)).any(axis=0)
    return ok & ~dominated


def front_ranks(points: np.ndarray, feasible: np.ndarray, enough: Optional[int] = None
                ) -> np.ndarray:
    """Non-dominated sorting: 0 for the front, 1 for the front without it, ...; infeasible rows
    (and, once `enough` rows are ranked, every row left) after them."""
    rank = np.full(len(points), -1)
    left = np.asarray(feasible, bool).copy()
    r = 0
    while left.any() and (enough is None or (rank >= 0).sum() < enough):
        front = nondominated(points, left)
        rank[front] = r
        left &= ~front
        r += 1
    rank[rank < 0] = r
    return rank


# --- one search -------------------------------------------------------------------------------


@contextlib.contextmanager
def _platypus_random(seed: int):
    """platypus draws from the `random` module, which anything else in the process may draw
    from too (a Dask client's threads do, between generations): for the search, each platypus
    module's `random` is a generator of the search's own, so nothing else moves it."""

    import platypus  # noqa: F401  (its modules are loaded)

    rng = random.Random(seed)
    swapped = [m for name, m in list(sys.modules.items())
               if name.split(".")[0] == "platypus" and getattr(m, "random", None) is random]
    for module in swapped:
        module.random = rng
    try:
        yield
    finally:
        for module in swapped:
            module.random = random


@dataclass
class SeedSearch:
    """What the search from one seed found, on its own futures."""

    seed: int                # 1, 2, ...: the search's number (its futures, its random choices)
    evaluated: pd.DataFrame  # every candidate: its values and objectives on the search's futures
    final: list              # the candidates left on its front after resolving, values
    trace: pd.DataFrame      # nfe, objectives of the archive's charters after each generation
    rounds: pd.DataFrame     # each resolving round: futures, contenders, unclear
    runs: int                # futures its charters were run on, in all (before a resume too)
    simulated: int           # of which this process ran (0 when every future was saved)
    invalid: dict            # candidates whose clauses the schema refuses together, and why


class CharterSearch:
    """One seed's epsilon-NSGA-II over the charter space (see the module's doc)."""

    def __init__(self, space: CharterSpace, ledger: Ledger, k: int, settings: dict,
                 on_stage: Optional[Callable[[str, int, int], None]]):
        self.space, self.ledger, self.k, self.s = space, ledger, k, settings
        self.on_stage = on_stage
        self.n = settings["replications"]
        self.candidates: dict[str, dict] = {}           # key -> values, in evaluation order
        self.rng = np.random.default_rng([settings["seed"], k])
        refs = [space.draft_values()] + [space.random_values(self.rng)
                                         for _ in range(REFERENCE)]
        self.invalid: dict[str, str] = {}             # key -> why it is not a valid scenario
        self.reference = {}
        for values in refs:                           # a clause combination the schema refuses
            key = charter_key(values)                 # is not a charter (see evaluate)
            if values is refs[0] or self._valid(key, values):
                self.reference[key] = values
        self.best = None
        self._cached: dict = {}

    def _scenarios(self, keys) -> dict:
        return {k: self.space.scenario(self.candidates.get(k) or self.reference[k])
                for k in keys}

    def _ensure(self, keys: list, n: int, stage: Optional[str] = None) -> None:
        """Run `keys`' futures up to n, reporting progress as `stage` (the search itself
        reports charters evaluated instead, after each generation)."""
        keys = [k for k in keys if self.ledger.count(k) < n]
        done = [0]

        def tick(m):
            done[0] += m
            if self.on_stage is not None and stage is not None:
                self.on_stage(stage, done[0], len(keys))

        self.ledger.ensure(self._scenarios(keys), n, tick)

    def _reference_best(self, n: int) -> np.ndarray:
        self._ensure(list(self.reference), n, f"seed {self.k + 1}: reference charters")
        return self.ledger.view(list(self.reference), n)["money"].max(axis=0)

    def measure(self, keys: list, n: int, index=None) -> tuple[np.ndarray, np.ndarray]:
        """Objectives [C, 3] of candidates on their first n futures (or on the resample
        `index` of them), and each partner's share of those futures in which it is better off
        than staying out [C, partners]."""
        futures = self.ledger.view(keys, n)
        best = self.best[:n]
        if index is not None:
            futures = {name: a[:, index] for name, a in futures.items()}
            best = best[index]
        return objectives(futures, best), better_off(futures)

    def changes(self, keys: list) -> np.ndarray:
        """How many clauses each candidate changes from the draft."""
        return np.array([len(self.space.changed(self.candidates.get(k) or self.reference[k]))
                         for k in keys], dtype=int)

    def within(self, changes: np.ndarray) -> np.ndarray:
        """Within the edit budget (every candidate, without one)."""
        return changes <= (len(self.space.levers) if self.space.budget is None
                           else self.space.budget)

    def feasible(self, gains: np.ndarray, changes: np.ndarray) -> np.ndarray:
        """Signed by every partner and within the budget."""
        return (gains >= self.s["sign_share"]).all(axis=1) & self.within(changes)

    def run(self) -> SeedSearch:
        from platypus import EpsNSGAII, InjectedPopulation, Problem, Solution

        space, n = self.space, self.n
        runs_before = self.ledger.runs
        self.best = self._reference_best(n)
        partners = self.best.shape[1]
        nconstrs = partners + (1 if space.budget is not None else 0)
        problem = Problem(len(space.types()), 3, nconstrs)
        problem.types[:] = space.types()
        problem.directions[:] = directions()
        problem.constraints[:] = [">=0"] * partners + (["<=0"] if space.budget is not None
                                                      else [])
        problem.function = self._objective
        injected = []
        for values in self.reference.values():
            if not space.holds(values):       # a draft outside the levers' ranges
                continue
            solution = Solution(problem)
            solution.variables[:] = space.encoded(values)
            injected.append(solution)
        target = float(np.mean(self.ledger.targets[:n]))
        self.epsilons = [self.s["epsilon_p"], self.s["epsilon_m"] * target,
                         self.s["epsilon_m"] * target]
        algorithm = EpsNSGAII(problem, self.epsilons, population_size=self.s["population"],
                              generator=InjectedPopulation(injected),
                              variator=_variator(problem.types),
                              evaluator=_batch_evaluator(self))
        trace = []

        def record(algo):
            for s in algo.archive:
                if s.feasible:
                    trace.append({"seed": self.k + 1, "nfe": algo.nfe,
                                  **dict(zip(OBJECTIVES, s.objectives[:]))})
            if self.on_stage is not None:
                self.on_stage(f"seed {self.k + 1}: searching",
                              min(algo.nfe, self.s["evaluations"]), self.s["evaluations"])

        with _platypus_random(int(np.random.SeedSequence([self.s["seed"], self.k])
                               .generate_state(1)[0])):
            algorithm.run(self.s["evaluations"], callback=record)
        keys = list(self.candidates)
        points, gains = self.measure(keys, n)
        evaluated = pd.DataFrame([self.candidates[k] for k in keys])
        evaluated.insert(0, "seed", self.k + 1)
        for j, name in enumerate(OBJECTIVES):
            evaluated[name] = points[:, j]
        evaluated["signs"] = (gains >= self.s["sign_share"]).all(axis=1)
        evaluated["within_budget"] = self.within(self.changes(keys))
        final, rounds = self.resolve()
        return SeedSearch(self.k + 1, evaluated,
                          [self.candidates[key] for key in final], pd.DataFrame(trace),
                          pd.DataFrame(rounds), self.ledger.held(),
                          self.ledger.runs - runs_before, dict(self.invalid))

    def _valid(self, key: str, values: dict) -> bool:
        """Whether the clause values make a valid scenario: each lever's values were checked
        one by one, but some combinations are refused by the schema (two vision weights both
        0, say). Such a candidate is recorded and never run."""
        from sim.scenario.loading import ScenarioError

        if key in self.invalid:
            return False
        try:
            self.space.scenario(values)
            return True
        except ScenarioError as exc:
            self.invalid[key] = "; ".join(exc.problems)
            return False

    def _objective(self, variables):
        values = self.space.values(variables)
        key = charter_key(values)
        if key in self.invalid:           # the worst of everything, and violating every term
            partners = len(self.space.draft.partner_names())
            return [0.0, -1e12, 1e12], [-1.0] * partners + (
                [len(self.space.levers)] if self.space.budget is not None else [])
        return self._cached[key]

    def evaluate(self, solutions) -> None:
        """Run every solution's futures not yet run, as one batch."""
        if not solutions:
            return
        problem = solutions[0].problem
        keys = []
        for s in solutions:
            decoded = [problem.types[i].decode(s.variables[i]) for i in range(problem.nvars)]
            values = self.space.values(decoded)
            key = charter_key(values)
            if key not in self.candidates and not self._valid(key, values):
                continue
            self.candidates.setdefault(key, values)
            keys.append(key)
        unique = list(dict.fromkeys(keys))
        self._ensure(unique, self.n)
        if not unique:
            return
        points, gains = self.measure(unique, self.n)
        over = self.changes(unique) - (self.space.budget or 0)
        self._cached = {k: (list(points[i]), list(gains[i] - self.s["sign_share"])
                            + ([int(over[i])] if self.space.budget is not None else []))
                        for i, k in enumerate(unique)}     # objectives, constraints

    def resolve(self) -> tuple[list, list]:
        """Extra futures only where the front is unclear (see the module's doc); returns the
        keys on the front at the end and a record of each round."""
        keys = list(self.candidates)
        n = self.n
        if not keys:
            return [], [{"seed": self.k + 1, "futures": n, "contenders": 0,
                         "clearly_on_front": 0, "unclear": 0}]
        points, gains = self.measure(keys, n)
        feasible = self.feasible(gains, self.changes(keys))
        order = np.lexsort((np.arange(len(keys)), front_ranks(points, feasible, CONTENDERS)))
        contenders = [keys[i] for i in order[:CONTENDERS]]
        rounds = []
        boot = np.random.default_rng([self.s["seed"], self.k, 1])
        while True:
            changes = self.changes(contenders)
            points, gains = self.measure(contenders, n)
            feasible = self.feasible(gains, changes)
            share = np.zeros(len(contenders))
            for _ in range(self.s["bootstrap"]):
                index = boot.integers(0, n, n)
                resampled, gains = self.measure(contenders, n, index)
                share += nondominated(resampled, self.feasible(gains, changes), self.epsilons)
            share /= self.s["bootstrap"]
            unclear = (share > 1 - CLEAR) & (share < CLEAR)
            rounds.append({"seed": self.k + 1, "futures": n, "contenders": len(contenders),
                           "clearly_on_front": int((share >= CLEAR).sum()),
                           "unclear": int(unclear.sum())})
            if not unclear.any() or n >= self.s["max_replications"]:
                break
            contenders = [k for k, p in zip(contenders, share) if p > 1 - CLEAR]
            n = min(2 * n, self.s["max_replications"])
            self.best = self._reference_best(n)
            self._ensure(contenders, n, f"seed {self.k + 1}: resolving the front")
        front = nondominated(points, feasible, self.epsilons)
        return self.thin([k for k, on in zip(contenders, front) if on], n), rounds

    def thin(self, keys: list, n: int) -> list:
        """One charter per epsilon-box of the objectives (see epsilon_thin)."""
        if not keys:
            return []
        points, gains = self.measure(keys, n)
        kept = epsilon_thin(points, self.feasible(gains, self.changes(keys)), self.epsilons)
        return [k for k, keep in zip(keys, kept) if keep]


def directions() -> list:
    """OBJECTIVES' senses as platypus directions."""
    from platypus import Direction

    return [Direction.MAXIMIZE if s > 0 else Direction.MINIMIZE for s in SENSE]


def as_solutions(points: np.ndarray, feasible=None) -> list:
    """Objective vectors ([C, 3]) as evaluated platypus Solutions (for its archives and
    indicators), each knowing its row; unsigned ones (`feasible` False) violate a constraint."""
    from platypus import Problem, Solution

    problem = Problem(1, 3, 1)
    problem.directions[:] = directions()
    feasible = np.ones(len(points), bool) if feasible is None else feasible
    out = []
    for i, (point, ok) in enumerate(zip(points, feasible)):
        solution = Solution(problem)
        solution.objectives[:] = list(point)
        solution.constraint_violation = 0.0 if ok else 1.0
        solution.feasible = bool(ok)
        solution.evaluated = True
        solution.row = i
        out.append(solution)
    return out


def epsilon_thin(points: np.ndarray, feasible: np.ndarray, epsilons) -> np.ndarray:
    """Which rows platypus' epsilon-box archive keeps (as the search keeps its own): one
    charter per box of side `epsilons` in the objectives, charters closer than that being the
    same answer; rows are offered in order, so ties go to the earlier."""
    from platypus import EpsilonBoxArchive

    archive = EpsilonBoxArchive(list(epsilons))
    for solution in as_solutions(points, feasible):
        archive.add(solution)
    kept = np.zeros(len(points), bool)
    kept[[s.row for s in archive]] = True
    return kept & np.asarray(feasible, bool)    # an archive of only unsigned charters is none


def _variator(types):
    """Crossover and mutation for each kind of variable present (as the EMA Workbench combines
    them for mixed levers): SBX and polynomial mutation for numbers, HUX and bit flips for
    whole numbers and "changed" genes, subset crossover and replacement for choices."""
    from platypus import (HUX, PM, SBX, SSX, Binary, BitFlip, CompoundOperator, Real, Replace,
                          Subset)

    operators = []
    if any(isinstance(t, Real) for t in types):
        operators += [SBX(), PM()]
    if any(isinstance(t, Binary) for t in types):
        operators += [HUX(), BitFlip()]
    if any(isinstance(t, Subset) for t in types):
        operators += [SSX(), Replace()]
    return CompoundOperator(*operators)


def _batch_evaluator(search: CharterSearch):
    """A platypus Evaluator that runs a generation's new charters as one batch (on the
    executors), then lets platypus evaluate each from the results."""
    from platypus import Evaluator

    class BatchEvaluator(Evaluator):
        def evaluate_all(self, jobs, **kwargs):
            search.evaluate([job.solution for job in jobs])
            for job in jobs:
                job.run()
            return jobs

    return BatchEvaluator()

