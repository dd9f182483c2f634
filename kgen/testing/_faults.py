"""Deterministic fault injection: make the server misbehave the way real clusters do.

A :class:`Faults` plan holds rules; each request that a rule matches (by verb and resource;
discovery, OpenAPI and ``/version`` requests count as verb ``get`` of the pseudo-resources
``discovery``, ``openapi`` and ``version``) may trigger it, with ``probability`` drawn from a generator seeded by ``seed``, so a test that
sends the same requests in the same order sees the same faults. A rule fires ``times`` times
(``None``: for ever). Kinds:

* ``status``: answer with ``code`` (429 adds ``Retry-After``; 500, 503, 504 ...) and a Status body;
* ``delay``: wait ``seconds`` before handling the request;
* ``close_watch``: end a watch stream after ``after_events`` events;
* ``corrupt_watch``: after ``after_events`` events send a ``malformed`` JSON line or a
  ``truncated`` one (then end the stream);
* ``half_open``: after ``after_events`` events stop sending but keep the connection open.

History compaction is not a rule: call :meth:`kgen.testing.APIServer.compact`.
Thread-safe: rules are added and consumed under one lock.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

__all__ = ["Fault", "Faults"]

WATCH_KINDS = frozenset({"close_watch", "corrupt_watch", "half_open"})


@dataclass
class Fault:
    """One rule of a fault plan (see the module docstring for the kinds)."""

    kind: str
    code: int = 0
    retry_after: int | None = None
    seconds: float = 0.0
    after_events: int = 0
    mode: str = "malformed"
    verb: str | None = None
    resource: str | None = None
    times: int | None = 1
    probability: float = 1.0

    def matches(self, verb: str, resource: str) -> bool:
        if self.kind in WATCH_KINDS and verb != "watch":
            return False
        return (self.verb is None or self.verb == verb) and (
            self.resource is None or self.resource == resource
        )


class Faults:
    """A seeded plan of faults; see the module docstring."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[Fault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.fired: list[tuple[str, str, str]] = []
        """``(kind, verb, resource)`` of every fault that fired, in order."""

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def fail(
        self,
        code: int,
        *,
        retry_after: int | None = None,
        verb: str | None = None,
        resource: str | None = None,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> Fault:
        """Answer matching requests with ``code`` (and ``Retry-After`` when given)."""
        return self.add(
            Fault(
                "status",
                code=code,
                retry_after=retry_after,
                verb=verb,
                resource=resource,
                times=times,
                probability=probability,
            )
        )

    def delay(
        self,
        seconds: float,
        *,
        verb: str | None = None,
        resource: str | None = None,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> Fault:
        """Hold matching requests for ``seconds`` before handling them."""
        return self.add(
            Fault(
                "delay",
                seconds=seconds,
                verb=verb,
                resource=resource,
                times=times,
                probability=probability,
            )
        )

    def close_watch(
        self,
        after_events: int,
        *,
        resource: str | None = None,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> Fault:
        """End matching watch streams after ``after_events`` events."""
        return self.add(
            Fault(
                "close_watch",
                after_events=after_events,
                resource=resource,
                times=times,
                probability=probability,
            )
        )

    def corrupt_watch(
        self,
        after_events: int,
        *,
        mode: str = "malformed",
        resource: str | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Send a ``malformed`` or ``truncated`` line after ``after_events`` events."""
        if mode not in ("malformed", "truncated"):
            raise ValueError(f"corrupt_watch mode must be 'malformed' or 'truncated', not {mode!r}")
        return self.add(
            Fault(
                "corrupt_watch",
                after_events=after_events,
                mode=mode,
                resource=resource,
                times=times,
            )
        )

    def half_open(
        self, after_events: int, *, resource: str | None = None, times: int | None = 1
    ) -> Fault:
        """Stop sending on matching watch streams after ``after_events`` events, connection kept."""
        return self.add(
            Fault("half_open", after_events=after_events, resource=resource, times=times)
        )

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, verb: str, resource: str) -> list[Fault]:
        """The rules that fire for one request (consuming their ``times``)."""
        fired: list[Fault] = []
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(verb, resource):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                fired.append(rule)
                self.fired.append((rule.kind, verb, resource))
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
        return fired
