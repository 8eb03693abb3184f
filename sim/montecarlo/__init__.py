"""The Monte Carlo layer: many replications with their own seeds, where the work runs (executors),
memory bounds, common random numbers, checkpoints, statistics."""
