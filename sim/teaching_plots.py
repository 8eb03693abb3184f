"""Pictures of one partnership as it runs, review by review: for the interactive app and the
teaching notebooks (the Monte Carlo figures are in sim.plots).

Each function takes a PartnershipModel (at any point of its run) and returns a matplotlib
Figure built without pyplot, so a long-lived app server does not accumulate open figures, and
which a notebook shows as a picture whatever its matplotlib backend.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from sim.text import literal_text

INK, GOOD, BAD, GREY = "#264653", "#2a9d8f", "#e76f51", "#b0b7bb"
TRUST_COLOURS = colormaps["RdYlGn"]


class LessonFigure(Figure):
    """A Figure that Jupyter displays as a PNG (a pyplot-free figure has no display hook)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _figure(width=5.6, height=3.4):
    fig = LessonFigure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


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
    ax.set_title(f"Savings against the business case: {model.pct_business_case:.0f}% so far",
                 fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
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
    ax.set_title("Trust between the partners", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


@literal_text
def trust_network(model) -> Figure:
    """Partners as nodes (area by size), mutual trust as edge width and colour (red low, green
    high); partners that have left are grey, those not yet in are hollow."""
    import networkx as nx

    fig, ax = _figure(5.0, 4.2)
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
            ax.text(x, y, f"{t:.2f}", fontsize=7, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.8})
    sizes = np.array([a.size for a in partners], dtype=float)
    area = 300 + 1500 * sizes / max(sizes.max(), 1e-9)
    colours = [INK if a.active else (GREY if a.exited_at is not None else "white")
               for a in partners]
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=[a.name for a in partners],
                           node_size=area, node_color=colours, edgecolors=INK)
    labels = {a.name: a.name + ("" if a.active else
                                (f"\n(left at {a.exited_at})" if a.exited_at is not None
                                 else "\n(not yet in)")) for a in partners}
    for name, (x, y) in pos.items():
        ax.text(x, y - 0.24, labels[name], fontsize=8, ha="center", va="top")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.55, 1.35)
    ax.axis("off")
    status = "dissolved" if model.dissolved else f"review {model.cycle} of {model.horizon}"
    ax.set_title(f"Trust network ({status})", fontsize=9)
    fig.tight_layout()
    return fig


@literal_text
def satisfaction_over_time(model) -> Figure:
    """Each partner's appraisal of the partnership (its satisfaction, weighed over its recent
    reviews) against its own leaving line (dashed): below it, leaving looks better than
    staying and the partner is likely to give notice."""
    fig, ax = _figure()
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    step = "Step" if "Step" in agents else agents.columns[0]
    colours = colormaps["tab10"]
    for k, (name, rows) in enumerate(agents.groupby("partner", sort=False)):
        shown = rows[rows["active"].astype(bool)]
        colour = colours(k % 10)
        ax.plot(shown[step], shown["appraisal"], lw=1.6, marker="o", ms=2.5, color=colour,
                label=name)
        ax.plot(shown[step], shown["leave_below"], lw=1, ls="--", color=colour)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, model.horizon)
    ax.set_xlabel("review")
    ax.set_ylabel("appraisal (satisfaction)")
    ax.set_title("Partner appraisal; dashed: below it leaving looks better", fontsize=9)
    ax.legend(fontsize=7, loc="lower left", ncol=max(1, math.ceil(len(model.partners) / 4)))
    fig.tight_layout()
    return fig
