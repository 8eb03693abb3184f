"""A register's evaluation for people: the rows of its table, a Markdown table (what
docs/PATTERNS.md records) and a one-line summary. User text (pattern names, statistic
settings) is written as text: never Markdown syntax or terminal control (sim.results.text)."""

from __future__ import annotations

import pandas as pd

from sim.analysis.patterns.evaluate import estimate_text
from sim.results.text import markdown_literal

HEADER = ("pattern", "role", "statistic", "value (95% CI)", "target", "reproduced")


def _verdict(row) -> str:
    if not row["reproduced"]:
        return "no"
    return "yes" if row["clearly_reproduced"] else "yes (not clearly)"


def rows(table: pd.DataFrame, settings: bool = True) -> list[list[str]]:
    """One list of cells (HEADER) per pattern; the statistic with its settings, or (for a
    narrow terminal) its name alone."""
    return [[r["name"], r["role"], r["statistic"] if settings else r["statistic"].split("(")[0],
             estimate_text(r), r["target"], _verdict(r)] for r in table.to_dict("records")]


def markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, user text escaped."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for cells in rows(table):
        lines.append("| " + " | ".join(markdown_literal(c) for c in cells[:3]) + " | "
                     + " | ".join(cells[3:]) + " |")
    return "\n".join(lines)


def summary(table: pd.DataFrame) -> dict:
    """How many patterns are reproduced, in all and by role, and which are not."""
    by_role = {}
    for role, group in table.groupby("role", sort=False):
        by_role[str(role)] = {"patterns": len(group), "reproduced": int(group["reproduced"].sum())}
    missed = table.loc[~table["reproduced"], "name"].tolist()
    return {"patterns": len(table), "reproduced": int(table["reproduced"].sum()),
            "clearly_reproduced": int(table["clearly_reproduced"].sum()),
            "by_role": by_role, "not_reproduced": missed}


def summary_line(table: pd.DataFrame) -> str:
    """`reproduced: 24 of 26 patterns (calibrate 6 of 6, validate 18 of 20); not: a, b`."""
    s = summary(table)
    roles = ", ".join(f"{role} {v['reproduced']} of {v['patterns']}"
                      for role, v in s["by_role"].items())
    line = f"reproduced: {s['reproduced']} of {s['patterns']} patterns ({roles})"
    if s["not_reproduced"]:
        line += "; not reproduced: " + ", ".join(s["not_reproduced"])
    return line
