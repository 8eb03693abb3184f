"""One self-contained HTML page from any results folder, to take to the partners' meeting.

Everything is inside the file: figures as base64 PNGs, styles inline, no scripts and nothing
fetched from the network, so it opens the same on a laptop without a connection or attached to
an e-mail. It shows what the folder's manifest.json records (the scenario, the headline
figures, how to reproduce the result), every figure in the folder, and the small tables.

A results folder may come from someone else: every text is HTML-escaped, and only regular
files inside the folder are read (a `*.png` or `*.csv` that is a symbolic link, or a device,
is listed as not embedded, never followed).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path

import pandas as pd
import yaml

from sim.montecarlo import files

#: Tables with at most this many rows are shown in full; larger ones are listed.
TABLE_ROWS = 60
#: Largest figure or table file embedded (the CSV copies stop at 100,000 rows, about 20 MB).
MAX_EMBEDDED_BYTES = 64_000_000
REPORT = "report.html"

TITLES = {"run": "Monte Carlo stress test", "sweep": "Sensitivity sweep",
          "grid": "Two-input map", "stress": "Stress test", "compare": "Charter comparison",
          "discover": "Scenario discovery", "experiment": "Experiment",
          "calibrate": "Calibration", "patterns": "Pattern check", "design": "Charter design"}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #1d2d35; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #8ab17d;
     padding-bottom: 0.2rem; margin-top: 2rem; font-size: 1.2rem; }
.meta { color: #5a6b73; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0; }
th, td { border: 1px solid #d5dde0; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #eef3ef; }
table.headline th { width: 14rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #e3e8ea; }
figcaption { font-size: 0.85rem; color: #5a6b73; }
pre { background: #f5f7f8; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem;
      white-space: pre-wrap; word-break: break-word; }
.note { background: #fff6e0; border-left: 4px solid #e9c46a; padding: 0.4rem 0.8rem; }
"""


class ReportError(ValueError):
    """A folder that is not a complete results folder."""


def build_report(folder: str | os.PathLike) -> str:
    """The HTML page for a results folder."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such results folder")
    if not manifest_path.exists():
        raise ReportError(f"{folder}: not a complete results folder (no manifest.json; an "
                          "interrupted run is finished with `collabsim run --resume`)")
    try:
        manifest = json.loads(files.read_file(manifest_path).decode("utf-8"))
    except files.UnsafeFolder as exc:
        raise ReportError(str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{manifest_path}: unreadable ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("summary") or {}, dict):
        raise ReportError(f"{manifest_path}: not a collabsim manifest (expected a mapping with "
                          "a summary mapping)")
    kind = manifest.get("kind", "results")
    name = manifest.get("experiment_name") if kind == "experiment" else None
    name = str(name) if name else _scenario_name(manifest)
    title = f"{TITLES.get(kind, kind)}: {name}"
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class='meta'>{_e(manifest.get('created_utc', ''))} · results folder "
             f"<code>{_e(folder.name)}</code> · seed {_e(manifest.get('seed'))}</p>"]
    skipped: list[str] = []
    parts += _headline(kind, manifest.get("summary") or {})
    parts += _figures(folder, skipped)
    parts += _tables(folder, skipped)
    if skipped:
        parts.append("<p class='note'>Not embedded (only regular files inside the folder are): "
                     + ", ".join(f"<code>{_e(n)}</code>" for n in skipped) + "</p>")
    parts += _reproduce(manifest)
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n"
            f"</body></html>\n")


def write_report(folder: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the page (default: report.html inside the folder), atomically."""
    page = build_report(folder)
    target = Path(out) if out is not None else Path(folder) / REPORT
    target.parent.mkdir(parents=True, exist_ok=True)
    files.write_text(target, page)
    return target


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _scenario_name(manifest: dict) -> str:
    try:
        data = yaml.safe_load(manifest.get("scenario") or "")
        if isinstance(data, dict) and data.get("name"):
            return str(data["name"])
    except yaml.YAMLError:
        pass
    return Path(manifest.get("scenario_path") or "scenario").stem


def _headline(kind: str, summary: dict) -> list[str]:
    lines, paths = summary.get("headline") or [], {}
    if kind == "run" and "p_deliver" in summary:
        from sim.results.run_folder import headline_lines  # matplotlib: a run's report

        try:
            lines = headline_lines(summary)
        except (KeyError, TypeError, ValueError):   # a summary from another version
            lines = [("P(deliver)", summary["p_deliver"])]
        paths = summary.get("failure_paths") or {}
    lines = [line for line in lines if isinstance(line, (list, tuple)) and len(line) == 2]
    if not isinstance(paths, dict):
        paths = {}
    out = ["<h2>Headline</h2>"]
    if lines:
        out.append("<table class='headline'>" + "".join(
            f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in lines) + "</table>")
    else:
        out.append("<p>No headline figures recorded.</p>")
    if paths:
        out.append("<h3>Most common failure paths</h3><table><tr><th>path</th>"
                   "<th>share of runs</th></tr>" + "".join(
                       f"<tr><td>{_e(k)}</td><td>{_share(v)}</td></tr>"
                       for k, v in paths.items()) + "</table>")
    notes = summary.get("notes") or []
    for note in [notes] if isinstance(notes, str) else notes:
        out.append(f"<p class='note'>{_e(note)}</p>")
    return out


def _share(value) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) else _e(value)


def _regular_files(folder: Path, suffix: str, skipped: list[str]) -> list[tuple[Path, bytes]]:
    """(path, bytes) of the regular files directly in the folder with this suffix, in name
    order; anything else by that name (a symbolic link, a device) goes to `skipped`."""
    found = []
    for path in sorted(folder.glob(f"*{suffix}")):
        try:
            found.append((path, files.read_file(path, MAX_EMBEDDED_BYTES)))
        except (files.UnsafeFolder, FileNotFoundError) as exc:
            reason = str(exc).split(": ", 1)[-1].split(";")[0]
            skipped.append(f"{path.name} ({reason})")
    return found


def _figures(folder: Path, skipped: list[str]) -> list[str]:
    images = _regular_files(folder, ".png", skipped)
    if not images:
        return []
    out = ["<h2>Figures</h2>"]
    for path, data in images:
        encoded = base64.b64encode(data).decode("ascii")
        out.append(f"<figure><img alt='{_e(path.stem)}' src='data:image/png;base64,{encoded}'>"
                   f"<figcaption>{_e(path.name)}</figcaption></figure>")
    return out


def _tables(folder: Path, skipped: list[str]) -> list[str]:
    out, listed = [], []
    for path, data in _regular_files(folder, ".csv", skipped):
        try:
            frame = pd.read_csv(io.BytesIO(data))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                ValueError) as exc:
            listed.append((f"{path.name} (not readable as a table: {exc})", None, None))
            continue
        if len(frame) <= TABLE_ROWS:
            out.append(f"<h3>{_e(path.stem)}</h3>" + frame.to_html(
                index=False, border=0, float_format=lambda x: f"{x:.4g}", na_rep=""))
        else:
            listed.append((path.name, len(frame), len(frame.columns)))
    for sub in ("outcomes", "timeseries"):
        if (folder / sub).is_dir() and not (folder / sub).is_symlink() \
                and not (folder / f"{sub}.csv").exists():
            parts = len(list((folder / sub).glob("*.parquet")))
            listed.append((f"{sub}/ ({parts} Parquet parts)", None, None))
    if not out and not listed:
        return []
    html_ = ["<h2>Tables</h2>"] + out
    if listed:
        html_.append("<p>Larger tables, in the folder:</p><ul>" + "".join(
            f"<li><code>{_e(n)}</code>" + (f": {r} rows × {c} columns" if r else "") + "</li>"
            for n, r, c in listed) + "</ul>")
    return html_


def _reproduce(manifest: dict) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items())
    out = ["<h2>How to reproduce</h2>",
           f"<pre>{_e(manifest.get('command', ''))}</pre>",
           f"<p class='meta'>Same scenario and seed give identical results. Scenario file "
           f"<code>{_e(manifest.get('scenario_path'))}</code>, sha256 "
           f"<code>{_e(manifest.get('scenario_sha256'))}</code>. {_e(versions)}. "
           f"{_e(manifest.get('platform', ''))}</p>"]
    settings = manifest.get("settings")
    if settings:
        out.append("<details><summary>Settings</summary><pre>"
                   f"{_e(json.dumps(settings, indent=2, default=str))}</pre></details>")
    if manifest.get("experiment"):
        out.append("<details open><summary>Experiment</summary>"
                   f"<pre>{_e(manifest['experiment'])}</pre></details>")
    if manifest.get("scenario"):
        out.append("<details open><summary>Scenario</summary>"
                   f"<pre>{_e(manifest['scenario'])}</pre></details>")
    return out
