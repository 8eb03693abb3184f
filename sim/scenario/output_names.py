"""The names of what runs can be summarised to, in one place that imports nothing heavy (so a
file naming them is checked before pandas or the engine load).

`OUTPUTS` are the scalars a design point's runs are summarised to (sweeps, maps, sim.evaluate,
experiments per run); `TIMESERIES_COLUMNS` the columns of a run's time-series table, one row per
review (sim.evaluate's `timeseries.NAME`, experiments per review). sim.analysis.sensitivity and
sim.montecarlo.runs export them under the same names.
"""

#: What each point's replications are summarised to (the run summary's headline figures).
OUTPUTS = {
    "p_deliver": "probability of delivering the business case",
    "median_savings_pct": "median net savings, % of the business case",
    "mean_savings_pct": "mean net savings, % of the business case",
    "p_dissolved": "probability the partnership dissolves",
    "p_any_exit": "probability at least one partner leaves",
    "p_thriving": "probability of thriving",
    "mean_final_trust": "mean trust between partners at the end",
    "mean_exits": "mean number of partners that leave",
}

#: The columns of a run's time-series table (the Mesa model's DataCollector and the vectorised
#: engine record the same ones).
TIMESERIES_COLUMNS = (
    "cycle", "maturity", "running_quality", "gross_savings_m", "spend_m", "cum_net_savings_m",
    "planned_net_savings_m", "pct_business_case", "mean_trust", "min_trust", "active_partners",
    "fairness_imbalance", "alignment", "decision_pace", "team_delivery", "mean_satisfaction",
    "dissolved",
)
