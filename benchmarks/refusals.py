"""How long `collabsim` takes to refuse the inputs of issue 15 (measured, not tested: the test
suite checks each refusal's status and message, and that it imports none of the libraries that
would take its 2 seconds; this prints the times).

    python benchmarks/refusals.py          # each case 3 times; prints the slowest, in seconds

Cases: /dev/zero and a named pipe as the scenario; 199,000 unknown keys; a list of 199,000
values; 10,000 lists of 20 values (200,000 values); 101 aliases; `horizon: yes`; a name with an
escape sequence; a chunk that cannot fit in memory (COLLABSIM_MEMORY=1G); a scenario too big
for one replication (1000 partners over 400 reviews, COLLABSIM_MEMORY=2G). Prints Markdown.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
TYPICAL = ROOT / "scenarios" / "typical.yaml"
CORPUS = ROOT / "tests" / "bad_inputs"


def cases(folder: Path) -> list[tuple[str, list, dict]]:
    base = THREE.read_text()
    (folder / "keys.yaml").write_text(base + "".join(f"k{i:x}: 1\n" for i in range(199_000)))
    (folder / "values.yaml").write_text(base.replace(
        "ambition: {uniform: [0.3, 0.6]}", "ambition: [" + ",".join(["0.5"] * 199_000) + "]", 1))
    (folder / "nested.yaml").write_text(base + "extra:\n" + f"  - [{','.join(['1'] * 20)}]\n"
                                        * 9_999)
    os.mkfifo(folder / "pipe.yaml")
    big = yaml.safe_load(TYPICAL.read_text())
    big["population"]["count"], big["horizon"] = 1000, 400
    (folder / "big.yaml").write_text(yaml.safe_dump(big))
    return [
        ("validate /dev/zero", ["validate", "/dev/zero"], {}),
        ("validate a named pipe", ["validate", folder / "pipe.yaml"], {}),
        ("run: 199,000 unknown keys", ["run", folder / "keys.yaml"], {}),
        ("run: a list of 199,000 values for a trait", ["run", folder / "values.yaml"], {}),
        ("run: 200,000 values in 10,000 lists", ["run", folder / "nested.yaml"], {}),
        ("run: 101 aliases", ["run", CORPUS / "too_many_aliases.yaml"], {}),
        ("run: horizon: yes", ["run", CORPUS / "horizon_yes.yaml"], {}),
        ("run: a name with an escape sequence", ["run", CORPUS / "name_escape_sequence.yaml"],
         {}),
        ("run --chunk-size 600000 (1 GB budget)",
         ["run", TYPICAL, "-n", 600_000, "--chunk-size", 600_000], {"COLLABSIM_MEMORY": "1G"}),
        ("run: 1000 partners x 400 reviews (2 GB budget)", ["run", folder / "big.yaml"],
         {"COLLABSIM_MEMORY": "2G"}),
        ("sweep: 1000 partners x 400 reviews (2 GB budget)",
         ["sweep", folder / "big.yaml", "-N", 8], {"COLLABSIM_MEMORY": "2G"}),
    ]


def seconds(args, env, cwd) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, env={**os.environ, **env}, timeout=120)
    return time.perf_counter() - start, done.returncode


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("| input | exit status | slowest of 3 (s) |")
        print("|---|---|---|")
        for label, args, env in cases(folder):
            runs = [seconds(args, env, folder) for _ in range(3)]
            print(f"| {label} | {runs[0][1]} | {max(t for t, _ in runs):.2f} |", flush=True)


if __name__ == "__main__":
    main()
