"""The teaching notebooks run top to bottom, are stored without outputs, use only the public API
(`import sim`, then `sim.NAME` for a name sim exports), print no warnings into the student's
output, and are laid out as lessons (NetLogo's Info sections)."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
SECTIONS = ["WHAT IS IT?", "HOW IT WORKS", "THINGS TO NOTICE", "THINGS TO TRY",
            "EXTENDING THE MODEL"]


def test_the_five_lessons_are_there():
    assert [p.stem for p in NOTEBOOKS] == ["01_first_partnership", "02_why_partnerships_fail",
                                           "03_stress_test_a_charter", "04_sensitivity",
                                           "05_design_a_charter"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_is_a_lesson_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[:5] == SECTIONS
    source = "\n".join(c.source for c in code)
    assert not re.search(r"\b_[a-z]\w*\(", source), "only the public API"
    import sim

    assert not re.search(r"^\s*(from sim\b|import sim\.)", source, flags=re.M), \
        "only `import sim`: no module of the package imported by name"
    used = set(re.findall(r"\bsim\.(\w+)", source))
    assert used <= set(sim.__all__), f"not in the public API: {sorted(used - set(sim.__all__))}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_from_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    # each cell well within a couple of minutes; the whole notebook takes seconds here
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    warnings = [o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "stream" and o.name == "stderr"]
    assert not warnings, f"the student would see: {warnings}"
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "every lesson has pictures"
