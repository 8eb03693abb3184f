"""Pictures of one partnership as it runs, review by review: for the interactive app and the
teaching notebooks (the Monte Carlo figures are in sim.results.run_figures).

Each function takes a PartnershipModel (at any point of its run) and returns a matplotlib
Figure built without pyplot, so a long-lived app server does not accumulate open figures, and
which a notebook shows as a picture whatever its matplotlib backend.

Figures are drawn at the size the app shows them (CELL, in pixels at 100 dpi: half the plot
area of a 1366 x 768 screen), so the page never scales them down, and text is at least
TEXT_PT points (12.5 px at 100 dpi).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from sim.results.text import literal_text

INK, GOOD, BAD, GREY = "#264653", "#2a9d8f", "#e76f51", "#b0b7bb"
TRUST_COLOURS = colormaps["RdYlGn"]
#: The size (width, height in inches at 100 dpi) of one of the app's four plot cells.
CELL = (5.05, 2.45)
#: The smallest text on a figure (points): legends, tick labels, edge labels.
TEXT_PT = 9
TITLE_PT = 10


class LessonFigure(Figure):
    """A Figure that Jupyter displays as a PNG (a pyplot-free figure has no display hook)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _figure(width=CELL[0], height=CELL[1]):
    fig = LessonFigure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    ax.tick_params(labelsize=TEXT_PT)
    return fig, ax


def _finish(fig, ax, title, legend_loc="best", **legend):
    ax.set_title(title, fontsize=TITLE_PT)
    ax.xaxis.label.set_size(TEXT_PT)
    ax.yaxis.label.set_size(TEXT_PT)
    if legend_loc:
        ax.legend(fontsize=TEXT_PT, loc=legend_loc, framealpha=0.85, **legend)
    fig.tight_layout(pad=0.4)


def _history(model):
    return model.datacollector.get_model_vars_dataframe()


@literal_text
def savings_against_business_case(model) -> Figure:
    """Cumulative net savings review by review, against the business-case target."""
    fig, ax = _figure()
    h = _history(model)
    target = model.inputs.target_net_savings_m
    ax.axhline(target, color=BAD, ls="--", lw=1.2, label=f"business case £{target:.2f}m")
    ax.axhline(0, color=GREY, lw=0.8)
    plan = model.inputs.planned_money.sum(axis=-1)
    ax.plot(range(len(plan)), plan, color=GREY, lw=1.2, ls=":", label="the plan")
    ax.plot(h["cycle"], h["cum_net_savings_m"], color=INK, lw=2, marker="o", ms=3,
            label="cumulative net savings")
    ax.set_xlim(0, model.horizon)
    ax.set_xlabel("review (every six months)")
    ax.set_ylabel("£m")
    _finish(fig, ax, f"Savings against the business case: {model.pct_business_case:.0f}% so far",
            "best")
    return fig


@literal_text
def trust_over_time(model) -> Figure:
    """Mean and lowest trust between the partners taking part."""
    fig, ax = _figure()
    h = _history(model)
    ax.plot(h["cycle"], h["mean_trust"], color=INK, lw=2, label="mean trust")
    ax.plot(h["cycle"], h["min_trust"], color=BAD, lw=1.2, ls="--", label="lowest trust")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, model.horizon)
    ax.set_xlabel("review")
    ax.set_ylabel("trust")
    _finish(fig, ax, "Trust between the partners", "lower left", ncol=2)
    return fig


@literal_text
def trust_network(model) -> Figure:
    """Partners as nodes (area by size), mutual trust as edge width and colour (red low, green
    high, with its key beside the network); partners that have left are grey, those not yet in
    are hollow."""
    import networkx as nx
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig = LessonFigure(figsize=CELL, dpi=100)
    ax = fig.add_axes((0.0, 0.0, 0.84, 0.9))
    key = fig.add_axes((0.87, 0.1, 0.025, 0.72))
    partners = model.partners
    trust = model.trust_matrix()
    graph = nx.Graph()
    for a in partners:
        graph.add_node(a.name)
    for a in partners:
        for b in partners:
            if a.slot < b.slot and a.active and b.active:
                graph.add_edge(a.name, b.name,
                               trust=(trust[a.slot, b.slot] + trust[b.slot, a.slot]) / 2)
    pos = nx.circular_layout(graph)
    edges = list(graph.edges(data="trust"))
    if edges:
        nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=[(u, v) for u, v, _ in edges],
                               width=[0.5 + 7 * t for _, _, t in edges],
                               edge_color=[TRUST_COLOURS(t) for _, _, t in edges])
        for u, v, t in edges:
            x, y = (pos[u] + pos[v]) / 2
            ax.text(x, y, f"{t:.2f}", fontsize=TEXT_PT, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.8})
    sizes = np.array([a.size for a in partners], dtype=float)
    area = 120 + 600 * sizes / max(sizes.max(), 1e-9)
    colours = [INK if a.active else (GREY if a.exited_at is not None else "white")
               for a in partners]
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=[a.name for a in partners],
                           node_size=area, node_color=colours, edgecolors=INK)
    labels = {a.name: a.name + ("" if a.active else
                                (f" (left at {a.exited_at})" if a.exited_at is not None
                                 else " (not yet in)")) for a in partners}
    for name, (x, y) in pos.items():
        ax.text(x, y - 0.2, labels[name], fontsize=TEXT_PT, ha="center", va="top")
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-1.45, 1.25)
    ax.axis("off")
    status = "dissolved" if model.dissolved else f"review {model.cycle} of {model.horizon}"
    ax.set_title(f"Trust network ({status})", fontsize=TITLE_PT)
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), TRUST_COLOURS), cax=key)
    bar.set_label("mutual trust", fontsize=TEXT_PT)
    bar.ax.tick_params(labelsize=TEXT_PT)
    return fig


def _appraisals(model):
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    step = "Step" if "Step" in agents else agents.columns[0]
    return agents.rename(columns={step: "review"})


@literal_text
def satisfaction_over_time(model) -> Figure:
    """Each partner's appraisal of the partnership (its satisfaction, weighed over its recent
    reviews) against its own leaving line (dashed): below it, leaving looks better than
    staying and the partner is likely to give notice."""
    fig, ax = _figure()
    colours = colormaps["tab10"]
    for k, (name, rows) in enumerate(_appraisals(model).groupby("partner", sort=False)):
        shown = rows[rows["active"].astype(bool)]
        colour = colours(k % 10)
        ax.plot(shown["review"], shown["appraisal"], lw=1.6, marker="o", ms=2.5, color=colour,
                label=name)
        ax.plot(shown["review"], shown["leave_below"], lw=1, ls="--", color=colour)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, model.horizon)
    ax.set_xlabel("review")
    ax.set_ylabel("appraisal")
    # the legend beside the plot, so it never hides a line
    _finish(fig, ax, "Each partner's appraisal (dashed: its leaving line)", "upper left",
            bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


@literal_text
def shock_side_by_side(without, with_shock, at_cycle: int) -> Figure:
    """Two runs of one partnership on the same random numbers, without and with a shock at
    review `at_cycle`: cumulative net savings (left) and mean trust (right). They are the same
    run until the shock's review."""
    fig = LessonFigure(figsize=(2 * CELL[0], CELL[1]), dpi=100)
    money, trust = fig.subplots(1, 2)
    runs = (("without the shock", without, INK, "-"), ("with the shock", with_shock, BAD, "--"))
    for label, m, colour, style in runs:
        h = _history(m)
        money.plot(h["cycle"], h["cum_net_savings_m"], color=colour, ls=style, lw=2,
                   marker="o", ms=3, label=label)
        trust.plot(h["cycle"], h["mean_trust"], color=colour, ls=style, lw=2, marker="o", ms=3,
                   label=label)
    target = without.inputs.target_net_savings_m
    money.axhline(target, color=GREY, ls=":", lw=1.2, label=f"business case £{target:.2f}m")
    trust.set_ylim(0, 1)
    for ax, title, ylabel in ((money, "Cumulative net savings", "£m"),
                              (trust, "Mean trust between the partners", "trust")):
        ax.axvline(at_cycle, color=GREY, lw=1)
        ax.annotate(f"shock at review {at_cycle}", (at_cycle, 0), xycoords=("data", "axes fraction"),
                    xytext=(3, 3), textcoords="offset points", va="bottom", fontsize=TEXT_PT)
        ax.set_xlim(0, without.horizon)
        ax.set_xlabel("review")
        ax.set_ylabel(ylabel)
        ax.tick_params(labelsize=TEXT_PT)
        _finish(fig, ax, title, "best")
    return fig
