"""A tiny shell for exec handlers: enough of ``sh -c`` for the tests to say what a container
does in the words a user would (``echo out; echo err >&2; exit 3``)."""

from __future__ import annotations

import hashlib
import shlex

from kgen.testing import ContainerProcess


def shell(process: ContainerProcess) -> int:
    """Run ``process.command`` (``sh -c SCRIPT`` or one command): ``;``-separated ``echo``
    (``>&2`` to stderr), ``cat`` (stdin to stdout), ``wc -c``, ``sha256sum``, ``exit N``."""
    argv = list(process.command)
    script = argv[2] if argv[:2] == ["sh", "-c"] else shlex.join(argv)
    for statement in script.split(";"):
        words = shlex.split(statement)
        if not words:
            continue
        if words[0] == "exit":
            return int(words[1])
        if words[0] == "echo":
            to_stderr = words[-1] == ">&2"
            text = " ".join(words[1:-1] if to_stderr else words[1:]) + "\n"
            (process.stderr if to_stderr else process.stdout).write(text)
        elif words[0] == "cat":
            while chunk := process.stdin.read1():
                process.stdout.write(chunk)
        elif words == ["wc", "-c"]:
            total = 0
            while chunk := process.stdin.read1():
                total += len(chunk)
            process.stdout.write(f"{total}\n")
        elif words[0] == "sha256sum":
            digest = hashlib.sha256()
            while chunk := process.stdin.read1():
                digest.update(chunk)
            process.stdout.write(f"{digest.hexdigest()}  -\n")
        else:
            process.stderr.write(f"sh: {words[0]}: not found\n")
            return 127
    return 0
