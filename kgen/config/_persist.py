"""Writing a user's auth-provider configuration back to the kubeconfig file it came from.

An auth provider that refreshes its tokens keeps them in the kubeconfig, as kubectl does. The
write changes only ``users[name=<user>].user.auth-provider.config`` of that one file:

* **Locking** (:func:`locked`): kubectl's protocol, a ``<file>.lock`` created exclusively and
  removed afterwards, so kgen and kubectl never write the file at the same time; threads of one
  process are also serialised by an in-process lock per file. kubectl gives up at once when the
  lock file exists; kgen waits up to ``wait`` seconds for it to go.
* **Content**: the file's YAML tree is read afresh, the one map replaced, and the tree dumped
  again. Every other key and value stays, unknown fields and the order of keys included;
  comments and formatting are lost, and a JSON file becomes YAML (kubectl's own write-back
  does the same, and also drops unknown fields and sorts the keys). Strings the Go loader would read as something else
  (``y``, ``no``, ``2024-01-01``) are quoted.
* **Atomicity** (:func:`replace_atomically`): the new content goes to a temporary file in the
  same folder (created 0600), is flushed and fsynced, gets the old file's mode (and owner,
  where permitted), and is renamed over the old file; a symbolic link is followed, so the link
  stays and its target is replaced. A reader sees the old file or the new one, never a mix.

Every function is safe to call from any thread; :func:`locked` blocks while another holder has
the lock.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgen.config._errors import KubeconfigError
from kgen.config._parse import load_file, yaml_tree

if TYPE_CHECKING:
    import yaml

__all__ = [
    "LOCK_WAIT",
    "locked",
    "read_auth_provider_config",
    "replace_atomically",
    "write_auth_provider_config",
]

LOCK_WAIT = 10.0
"""Seconds :func:`locked` waits for another writer's ``<file>.lock`` to disappear."""

_POLL = 0.02

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


@functools.cache
def _dumper() -> type[yaml.SafeDumper]:
    """Block-style YAML without anchors, quoting ``y``/``n`` as the Go loader reads them (built
    on first use, so that yaml is imported only when a kubeconfig is written)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    _Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^[yYnN]$"), list("yYnN"))
    return _Dumper


def _thread_lock(path: str) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(path, threading.Lock())


@contextmanager
def locked(file: str, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the write lock of the kubeconfig ``file`` (see the module docstring).

    Raises :class:`KubeconfigError` when ``<file>.lock`` still exists after ``wait`` seconds
    or cannot be created.
    """
    with _thread_lock(os.path.abspath(file)):
        lock_file = file + ".lock"
        deadline = time.monotonic() + wait
        while True:
            try:
                os.close(os.open(lock_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                break
            except FileExistsError:
                if time.monotonic() >= deadline:
                    raise KubeconfigError(
                        f"the lock file {lock_file!r} has existed for {wait:g}s: another"
                        " kubectl or kgen is changing the file (remove it if none is)",
                        file=file,
                    ) from None
                time.sleep(_POLL)
            except OSError as exc:
                raise KubeconfigError(
                    f"cannot create the lock file {lock_file!r}: {exc.strerror}", file=file
                ) from None
        try:
            yield
        finally:
            with suppress(FileNotFoundError):
                os.remove(lock_file)


def read_auth_provider_config(file: str, user: str) -> dict[str, str] | None:
    """The ``auth-provider.config`` of user ``user`` as ``file`` holds it now, or ``None`` when
    the file is gone or no longer has that user with an auth provider. Raises
    :class:`KubeconfigError` when the file cannot be read or parsed."""
    if not os.path.exists(file):
        return None
    entry = load_file(file).auth_infos.get(user)
    if entry is None or entry.auth_provider is None:
        return None
    return dict(entry.auth_provider.config or {})


def write_auth_provider_config(file: str, user: str, values: Mapping[str, str]) -> bool:
    """Set ``users[name=<user>].user.auth-provider.config`` of ``file`` to ``values``, keeping
    everything else, atomically. Hold :func:`locked` around the read that decided ``values``
    and this call. Returns ``False`` (and writes nothing) when the file has no such user with
    an auth provider; raises :class:`KubeconfigError` when it cannot be read or replaced."""
    import yaml

    try:
        tree = yaml_tree(Path(file).read_bytes())
    except (OSError, yaml.YAMLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"invalid YAML: {exc}"
        raise KubeconfigError(f"cannot read kubeconfig: {reason}", file=file) from None
    provider = _auth_provider_of(tree, user)
    if provider is None:
        return False
    provider["config"] = dict(values)
    text = yaml.dump(tree, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=4096)
    try:
        replace_atomically(file, text.encode("utf-8"))
    except OSError as exc:
        raise KubeconfigError(f"cannot write kubeconfig: {exc.strerror}", file=file) from None
    return True


def _auth_provider_of(tree: Any, user: str) -> dict[str, Any] | None:
    """The ``auth-provider`` mapping of user ``user`` in a kubeconfig's YAML tree, or None."""
    users = tree.get("users") if isinstance(tree, dict) else None
    for item in users if isinstance(users, list) else ():
        if isinstance(item, dict) and item.get("name", "") == user:
            body = item.get("user")
            provider = body.get("auth-provider") if isinstance(body, dict) else None
            return provider if isinstance(provider, dict) else None
    return None


def replace_atomically(file: str, data: bytes) -> None:
    """Replace the contents of ``file`` (which must exist) with ``data`` as the module
    docstring describes; raises ``OSError`` and leaves the file untouched on failure."""
    target = os.path.realpath(file)
    folder, name = os.path.split(target)
    old = os.stat(target)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(old.st_mode))
        if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            with suppress(PermissionError):
                os.chown(temporary, old.st_uid, old.st_gid)
        os.replace(temporary, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
