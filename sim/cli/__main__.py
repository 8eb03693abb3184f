"""`python -m sim.cli`: the `collabsim` command."""

from sim.cli import main

main()
