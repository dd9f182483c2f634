"""Test doubles for the REST client tests: a fake clock and a scripted AuthProvider."""

from __future__ import annotations

from collections.abc import MutableMapping


class FakeClock:
    """Monotonic time that only moves when told to (or when `sleep` is called)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Provider:
    """An AuthProvider that hands out numbered tokens and counts 401 reports."""

    def __init__(self, retry: bool = True, pair: tuple[bytes, bytes] | None = None) -> None:
        self.generation = 1
        self.unauthorized = 0
        self.retry = retry
        self.pair = pair

    def authorize(self, headers: MutableMapping[str, str]) -> None:
        headers["Authorization"] = f"Bearer token{self.generation}"

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        return self.pair

    def on_unauthorized(self) -> bool:
        self.unauthorized += 1
        self.generation += 1
        return self.retry
