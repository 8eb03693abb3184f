"""Candidate charters judged on common futures: what each charter gives every partner, future by
future, on the draft's business case.

A future is one replication of the scenario: its uncertain inputs, its shocks and every review's
random numbers. Replication r of every candidate charter draws from the same stream (root seed,
replication r) laid out as sim.montecarlo.paired lays out variants (the draft's inputs first), so a
candidate's future r is the draft's future r with the charter changed: differences between
charters are their own, not luck's (common random numbers), and the draft's futures are
`collabsim run`'s. Charters change only clauses the draft fixes (sim.analysis.levers), so no
candidate
draws anything the draft does not.

Per future a candidate gives: whether it delivered the *draft's* business case (its target,
replication by replication: a charter that counts its own team in a lower plan is not excused),
the partnership's net savings (£m, net of what the charter itself costs: programme team,
training), and each partner's net money from the partnership (£m: savings received less costs
paid, penalties and exit penalties included). A partner is better off than staying out in a
future when its net money is above zero: staying out costs and saves nothing.

`Ledger` keeps every candidate's futures as they are computed, saved to a folder when given (one
file per finished batch), so an interrupted search finds them again and re-runs nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from sim.montecarlo import files
from sim.montecarlo.executors import Executor
from sim.partnership.engine import run_batch
from sim.scenario.schema import Scenario

#: What a candidate's futures hold: name -> (dtype, per partner?).
ARRAYS = {"delivered": (bool, False), "net": (float, False), "money": (float, True)}


def charter_futures(scenario: Scenario, seed: int, start: int, stop: int, layout,
                    targets: np.ndarray, conditions: bool = False) -> dict:
    """Replications start..stop-1 of one candidate: delivered (against `targets`, the draft's
    target per replication), net savings and each partner's net money; with `conditions`, the
    conditions each future faced (sim.analysis.discovery) too. A top-level function for
    executors."""

    run = run_batch(scenario, seed, np.arange(start, stop), layout=layout)
    H = scenario.horizon
    net = run.series["cum_net_savings_m"][:, H]
    out = {"delivered": (run.dissolved_at < 0) & (net >= targets),
           "net": net.astype(float), "money": np.asarray(run.net_money, dtype=float)}
    if conditions:
        from sim.analysis.discovery import conditions_frame

        out["conditions"] = conditions_frame(scenario, run)
    return out


def draft_targets(draft: Scenario, seed: int, start: int, stop: int, layout) -> np.ndarray:
    """The draft's business-case target in each of replications start..stop-1 (£m)."""

    run = run_batch(draft, seed, np.arange(start, stop), layout=layout)
    return np.broadcast_to(np.asarray(run.inputs.target_net_savings_m, dtype=float),
                           (stop - start,)).copy()


def batch_futures(scenarios: list, seed: int, start: int, stop: int, layout,
                  targets: np.ndarray) -> list[dict]:
    """charter_futures of several candidates (one executor task)."""
    return [charter_futures(sc, seed, start, stop, layout, targets) for sc in scenarios]


def charter_key(values: dict) -> str:
    """A candidate's identity: its clause values as canonical JSON (floats exactly)."""
    return json.dumps({k: values[k] for k in sorted(values)}, sort_keys=True)


@dataclass
class Ledger:
    """Every candidate's futures on one range of replications (`start` onwards), computed in
    batches on the executors and, with a `folder`, saved per batch so that a resumed search
    finds them. Futures of a candidate are always replications start..start+n-1 for some n:
    asking for more extends them (the first n never change)."""

    draft: Scenario
    seed: int
    start: int
    layout: object
    folder: Optional[Path] = None
    executor: Executor = field(default_factory=Executor)
    arrays: dict = field(default_factory=dict)       # key -> {name: array [n, ...]}
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    runs: int = 0                                    # replications this process simulated
    identity: str = ""                               # what else decides the futures saved

    def __post_init__(self):
        if self.folder is not None:
            self.folder = Path(self.folder)
            self._claim()
            for path in sorted(self.folder.glob("batch-*.npz")):
                self._load(path)

    def _claim(self) -> None:
        """Saved futures must be this ledger's (same draft, seed, first replication and stream
        layout, which decide every candidate's futures): another's are refused, never mixed."""
        digest = hashlib.sha256(repr((self.draft.model_dump_json(), self.seed, self.start,
                                      self.layout, self.identity)).encode()).hexdigest()
        mark = self.folder / "futures.sha256"
        if mark.is_file():
            if files.read_json(mark) != digest:
                raise ValueError(f"{self.folder}: these saved futures belong to a different "
                                 "design (another scenario, seed or set of charters to compare)")
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            files.write_json(mark, digest)

    def held(self) -> int:
        """Futures held for all candidates (simulated now or saved before)."""
        return sum(len(a["net"]) for a in self.arrays.values())

    def count(self, key: str) -> int:
        return len(self.arrays[key]["net"]) if key in self.arrays else 0

    def ensure(self, candidates: dict, n: int,
               on_progress: Optional[Callable[[int], None]] = None) -> None:
        """Make sure every candidate (key -> scenario) has at least `n` futures."""
        self._ensure_targets(n)
        missing: dict[int, list] = {}
        for key, scenario in candidates.items():
            have = self.count(key)
            if have < n:
                missing.setdefault(have, []).append((key, scenario))
        tasks, members = {}, {}
        # a few tasks per worker, so that the last to finish does not hold the others up
        total = sum(map(len, missing.values()))
        per_task = max(1, min(8, -(-total // (2 * self.executor.workers))))
        for have, items in missing.items():
            for a in range(0, len(items), per_task):
                chunk = items[a:a + per_task]
                name = (have, a)
                tasks[name] = (batch_futures, ([sc for _, sc in chunk], self.seed,
                                               self.start + have, self.start + n, self.layout,
                                               self.targets[have:n]))
                members[name] = [k for k, _ in chunk]
        for name, results in self.executor.execute(tasks):
            have = name[0]
            keys = members[name]
            if self.folder is not None:
                self._save(keys, have, n, results)
            for key, result in zip(keys, results):
                self._add(key, have, result)
            self.runs += len(keys) * (n - have)
            if on_progress is not None:
                on_progress(len(keys))

    def _ensure_targets(self, n: int) -> None:
        have = len(self.targets)
        if have < n:
            more = draft_targets(self.draft, self.seed, self.start + have, self.start + n,
                                 self.layout)
            self.targets = np.concatenate([self.targets, more])

    def _add(self, key: str, have: int, result: dict) -> None:
        if self.count(key) != have:      # saved twice (a resumed batch): keep the first
            return
        old = self.arrays.get(key)
        self.arrays[key] = {name: result[name] if old is None else
                            np.concatenate([old[name], result[name]]) for name in ARRAYS}

    def view(self, keys: list[str], n: int) -> dict:
        """The first `n` futures of `keys`, stacked: {name: [len(keys), n, ...]}."""
        return {name: np.stack([self.arrays[k][name][:n] for k in keys]) for name in ARRAYS}

    # --- on disk: one file per finished batch ----------------------------------------------

    def _save(self, keys: list[str], have: int, n: int, results: list[dict]) -> None:
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
        path = self.folder / f"batch-{have:07d}-{n:07d}-{digest}.npz"
        self.folder.mkdir(parents=True, exist_ok=True)
        payload = {"keys": np.asarray(keys, dtype=str), "range": np.asarray([have, n])}
        for name in ARRAYS:
            payload[name] = np.stack([r[name] for r in results])
        with files.replacing(path) as handle:
            np.savez(handle, **payload)

    def _load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            have, n = (int(v) for v in data["range"])
            arrays = {name: data[name] for name in ARRAYS}
            keys = [str(k) for k in data["keys"]]
        # batches load in name order (by first replication): a key's earlier futures first
        for i, key in enumerate(keys):
            self._add(key, have, {name: arrays[name][i] for name in ARRAYS})
