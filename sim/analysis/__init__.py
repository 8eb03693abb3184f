"""The analyses: sweeps, maps, experiments, stress tests, comparisons, discovery, calibration,
charter design, validation."""
