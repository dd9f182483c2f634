"""The ``kgen`` command line. Each subcommand lives beside the code it drives and is added here."""

from __future__ import annotations

import click

from kgen._version import __version__
from kgen.generator.commands import register as register_generator_commands
from kgen.testing._cli import testserver


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kgen")
def main() -> None:
    """Generate typed Kubernetes clients for Python, and serve a test API server."""


register_generator_commands(main)
main.add_command(testserver)
