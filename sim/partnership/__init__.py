"""The partnership layer: the rules (each once), one run's inputs and random streams, the Mesa
model and its agents, the vectorised engine, and what one run amounted to."""
