"""``python -m kgen`` runs the command line."""

from kgen.cli import main

main()
