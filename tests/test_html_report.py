"""`collabsim report`: one self-contained HTML page for every kind of results folder."""

import base64
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from commandline import collabsim
from sim.results.html import REPORT, ReportError, build_report

#: Every test here reads the results folders every command writes (a module fixture that runs
#: them all, about 20 s), so all are slow.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
THREE = ROOT / "scenarios" / "three_councils.yaml"
STRONG = ROOT / "scenarios" / "strong_charter.yaml"

COMMANDS = {
    "run": ["run", THREE, "-n", "200"],
    "sweep": ["sweep", THREE, "--method", "morris", "-N", "8", "-n", "4"],
    "grid": ["grid", THREE, "--x", "partners.Northshire.ambition=0:1",
             "--y", "charter.consensus=0:1", "--steps", "3", "-n", "10"],
    "stress": ["stress", STRONG, "--shock", "supplier_failure", "--partner", "all", "-n", "200"],
    "timing": ["stress", THREE, "--shock", "budget_cut", "--timing", "-n", "100"],
    "compare": ["compare", THREE, STRONG, "-n", "200"],
    "discover": ["discover", THREE, "-n", "400"],
    "experiment": ["experiment", ROOT / "experiments" / "ambition_by_decision_rule.yaml"],
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    out = {}
    for kind, args in COMMANDS.items():
        done = collabsim(*args, "--out", root / kind)
        assert done.returncode == 0, (kind, done.stderr)
        out[kind] = root / kind
    return out


class Page(HTMLParser):
    """Collects what a browser would fetch or show."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.scripts, self.tags, self.text = [], [], 0, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "img":
            self.images.append(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("kind", list(COMMANDS))
def test_the_report_embeds_every_figure_and_says_how_to_reproduce(folders, kind, tmp_path):
    folder = folders[kind]
    done = collabsim("report", folder, "--json")
    assert done.returncode == 0, done.stderr
    path = Path(json.loads(done.stdout)["report"])
    assert path == folder / REPORT
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.tags[:1] == ["html"] and "body" in page.tags and page.scripts == 0
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert pngs and len(page.images) == len(pngs)
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(i["alt"] + ".png" for i in page.images) == pngs
    assert not [link for link in page.links if "://" in link]   # nothing fetched
    text = " ".join(page.text)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"] in text and "Headline" in text
    assert "Three councils" in text
    # the page stands alone: moved elsewhere, with the folder gone, it is the same page
    copy = tmp_path / "copy.html"
    shutil.copy(path, copy)
    assert copy.read_text() == path.read_text()


def test_the_run_report_has_the_headline_figures(folders):
    text = build_report(folders["run"])
    assert "Delivers the business case" in text and "Most common failure paths" in text


def test_the_experiment_report_is_titled_by_the_experiment_and_shows_its_file(folders):
    text = build_report(folders["experiment"])
    assert "<title>Experiment: Ambition and decision rule</title>" in text
    assert "<summary>Experiment</summary>" in text and "charter.decision_rule: [unanimity" in text
    assert "p_deliver: highest" in text and "<h3>table</h3>" in text


def test_a_folder_that_is_not_complete_is_refused(tmp_path):
    with pytest.raises(ReportError, match="no manifest.json"):
        build_report(tmp_path)
    done = collabsim("report", tmp_path / "nowhere")
    assert done.returncode == 2 and "no such results folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_report_can_be_written_elsewhere(folders, tmp_path):
    target = tmp_path / "meeting" / "partners.html"
    done = collabsim("report", folders["compare"], "--out", target)
    assert done.returncode == 0 and target.exists()
    assert "Charter comparison" in target.read_text()


def test_odd_folder_content_is_listed_or_refused_never_a_traceback(folders, tmp_path):
    folder = tmp_path / "odd"
    shutil.copytree(folders["compare"], folder)
    (folder / "empty.csv").write_text("")
    (folder / "broken.csv").write_bytes(b"\xff\xfe\x00a,b\n1")
    done = collabsim("report", folder)
    assert done.returncode == 0, done.stderr
    text = (folder / REPORT).read_text()
    assert "empty.csv (not readable as a table" in text
    (folder / "manifest.json").write_text("[1, 2]")
    done = collabsim("report", folder)
    assert done.returncode == 2 and "not a collabsim manifest" in done.stderr
    target = tmp_path / "a_directory"
    target.mkdir()
    done = collabsim("report", folders["run"], "--out", target)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_only_regular_files_inside_the_folder_are_embedded(folders, tmp_path):
    """A `*.png` or `*.csv` that is a symbolic link (to a secret, say) or a special file is
    listed as not embedded, never followed; a manifest.json that is a link is refused."""
    folder = tmp_path / "shared"
    shutil.copytree(folders["run"], folder)
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    picture = tmp_path / "private.png"
    picture.write_bytes(b"\x89PNG private picture")
    (folder / "leak.csv").symlink_to(secret)
    (folder / "leak.png").symlink_to(picture)
    os.mkfifo(folder / "pipe.csv")
    done = collabsim("report", folder)
    assert done.returncode == 0, done.stderr
    text = (folder / REPORT).read_text()
    assert "hunter2" not in text
    assert base64.b64encode(picture.read_bytes()).decode() not in text
    for name in ("leak.csv", "leak.png", "pipe.csv"):
        assert name in text.split("Not embedded")[1], name
    (folder / "manifest.json").rename(folder / "real.json")
    (folder / "manifest.json").symlink_to(folder / "real.json")
    done = collabsim("report", folder)
    assert done.returncode == 2 and "symbolic link" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_report_written_onto_a_symbolic_link_replaces_the_link(folders, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(folders["run"], folder)
    target = tmp_path / "bashrc"
    target.write_text("alias ls='ls -F'\n")
    (folder / REPORT).unlink(missing_ok=True)
    (folder / REPORT).symlink_to(target)
    assert collabsim("report", folder).returncode == 0
    assert target.read_text() == "alias ls='ls -F'\n"
    assert not (folder / REPORT).is_symlink() and "<html" in (folder / REPORT).read_text()


def test_the_grid_report_shows_each_cell_with_its_ci_under_the_factor_paths(folders):
    text = build_report(folders["grid"])
    table = text.split("<h3>grid</h3>", 1)[1].split("</table>", 1)[0]
    header = [h for h in ("partners.Northshire.ambition", "charter.consensus", "p_deliver",
                          "p_deliver_ci_low", "p_deliver_ci_high") if f"<th>{h}</th>" in table]
    assert len(header) == 5 and "<th>x</th>" not in table
    assert table.count("<tr") == 1 + 9            # the header and the 3 x 3 cells
    assert "[95% CI " in text.split("Headline", 1)[1].split("</table>", 1)[0]
