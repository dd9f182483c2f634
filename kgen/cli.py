"""The ``kgen`` command line. Each subcommand lives beside the code it drives and is added here.

``testserver`` is loaded when it is asked for (its help included): it imports all of
kgen.testing, which ``kgen generate`` does not need."""

from __future__ import annotations

import click

from kgen._version import __version__
from kgen.generator.commands import register as register_generator_commands

_LAZY = {"testserver": ("kgen.testing._cli", "testserver")}


class _Commands(click.Group):
    """A group whose commands named in ``_LAZY`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY and cmd_name not in self.commands:
            import importlib

            module, attribute = _LAZY[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kgen")
def main() -> None:
    """Generate typed Kubernetes clients for Python, and serve a test API server."""


register_generator_commands(main)
