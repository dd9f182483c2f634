"""The default ``User-Agent``: ``<program>/<version> (<os>/<arch>) kgen/<commit>``."""

from __future__ import annotations

import os
import platform
import sys

from kgen._version import __version__

__all__ = ["build_user_agent", "default_user_agent"]

# Python's machine names for the common architectures, spelled as Kubernetes spells them.
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}


def build_user_agent(command: str, version: str, os_name: str, arch: str, commit: str) -> str:
    """Assemble a user agent; empty parts become ``unknown``, a version loses its ``-suffix``
    and a commit is cut to 7 characters."""
    command = command or "unknown"
    version = version.split("-", 1)[0] or "unknown"
    commit = commit[:7] or "unknown"
    return f"{command}/{version} ({os_name or 'unknown'}/{arch or 'unknown'}) kgen/{commit}"


def default_user_agent() -> str:
    """The user agent of this process: program name, kgen's version, OS and architecture."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    machine = platform.machine().lower()
    return build_user_agent(
        program, __version__, platform.system().lower(), _ARCH.get(machine, machine), ""
    )
