"""Go's duration format, which the API server expects in the ``timeout`` query parameter."""

from __future__ import annotations

__all__ = ["go_duration"]

_NS_PER_S = 1_000_000_000


def go_duration(seconds: float) -> str:
    """Format ``seconds`` the way Go prints a ``time.Duration``.

    ``21`` -> ``"21s"``, ``300`` -> ``"5m0s"``, ``3600`` -> ``"1h0m0s"``, ``1.5`` -> ``"1.5s"``,
    ``0.5`` -> ``"500ms"``, ``0`` -> ``"0s"``. Precision is one nanosecond.
    """
    ns = round(seconds * _NS_PER_S)
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u == 0:
        return "0s"
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_fraction(u, 3)}µs"
    if u < _NS_PER_S:
        return f"{sign}{_fraction(u, 6)}ms"
    whole_seconds = u // _NS_PER_S
    text = _fraction(u % (60 * _NS_PER_S), 9) + "s"
    if whole_seconds >= 60:
        minutes = whole_seconds // 60
        text = f"{minutes % 60}m{text}"
        if minutes >= 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def _fraction(value: int, digits: int) -> str:
    """``value / 10**digits`` with trailing zeros (and a bare point) removed."""
    whole, frac = divmod(value, 10**digits)
    frac_text = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{frac_text}" if frac_text else str(whole)
