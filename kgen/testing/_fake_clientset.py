"""What a generated fake clientset is made of, in the runtime: :class:`FakeClientsetBase` (the
sync one, a :class:`~kgen.client.ClientsetBase` whose session is served by a
:class:`~kgen.testing.Fake`) and :class:`FakeShortcuts`, the reactor and action shortcuts it
shares with the async twin (:class:`kgen.testing.aio.AsyncFakeClientsetBase`).

A generated ``FakeClientset`` (``<package>.fake``) is this base plus the package's
``Clientset``; ``<package>.aio.fake.AsyncFakeClientset`` the async base plus ``AsyncClientset``.
Both are rendered from one template: only the base differs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from kgen.client import ClientsetBase
from kgen.meta import encode
from kgen.rest import Config
from kgen.spec.model import APIModel
from kgen.testing._fake import Action, Fake, Reactor

__all__ = ["FakeClientsetBase", "FakeShortcuts", "seeded_fake"]


def seeded_fake(model: APIModel, objects: Iterable[object]) -> Fake:
    """A new :class:`Fake` of ``model`` holding ``objects`` (models or JSON mappings with
    apiVersion and kind; a List adds its items), added in order."""
    fake = Fake(model)
    for obj in objects:
        data = obj if isinstance(obj, Mapping) else json.loads(encode(obj))
        fake.tracker.add(data)
    return fake


class FakeShortcuts:
    """``actions``, ``clear_actions``, ``add_reactor`` and ``prepend_reactor`` of
    :attr:`fake` (thread-safe, as the fake is)."""

    fake: Fake
    """The fake cluster: reactors, recorded actions, the object tracker."""

    @property
    def actions(self) -> list[Action]:
        """Every request made through this clientset, oldest first (a copy)."""
        return self.fake.actions

    def clear_actions(self) -> None:
        self.fake.clear_actions()

    def add_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        """Consult ``reactor`` (for ``verb`` and ``resource``, ``"*"`` for any) after those
        already added."""
        self.fake.add_reactor(verb, resource, reactor)

    def prepend_reactor(self, verb: str, resource: str, reactor: Reactor) -> None:
        """Consult ``reactor`` before those already added."""
        self.fake.prepend_reactor(verb, resource, reactor)


class FakeClientsetBase(FakeShortcuts, ClientsetBase):
    """A clientset whose requests are served in memory by a new :class:`Fake` of ``model``
    holding ``objects`` (see :func:`seeded_fake`), through a ``requests`` adapter: no sockets,
    no threads. Thread-safe."""

    def __init__(self, model: APIModel, objects: Iterable[object] = ()) -> None:
        self.fake = seeded_fake(model, objects)
        super().__init__(Config(host=Fake.url, qps=-1), session=self.fake.session())
