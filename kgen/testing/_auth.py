"""Authentication and authorisation good enough to test clients against.

Authentication: a bearer token from ``tokens`` or a client certificate verified against the
server's client CA (user = certificate CN, groups = its O values). Anonymous requests get 401
unless ``allow_anonymous``. Authorisation: with no rules, every authenticated user may do
everything; otherwise a request is allowed when one :class:`Rule` matches it (403 if none).
Health and version endpoints are open to everyone, as on a default cluster.

Read-only after construction; thread-safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kgen.testing._errors import APIError

__all__ = ["Attributes", "Auth", "Rule", "User"]

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/livez", "/version"})


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attributes:
    """What a request does, in the terms of the authorisation rules."""

    user: User
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""


@dataclass(frozen=True)
class Rule:
    """Allows ``verbs`` on ``resources`` of ``groups`` in ``namespaces`` to ``users``/``members``
    of groups. ``"*"`` matches anything; ``namespaces`` empty means every namespace. A resource
    ``"pods/status"`` covers that subresource only."""

    verbs: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    groups: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ()
    users: tuple[str, ...] = ("*",)
    members: tuple[str, ...] = ()

    def allows(self, attrs: Attributes) -> bool:
        who = "*" in self.users or attrs.user.name in self.users
        who = who or bool(set(self.members) & set(attrs.user.groups))
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (
            who
            and ("*" in self.verbs or attrs.verb in self.verbs)
            and ("*" in self.resources or resource in self.resources)
            and ("*" in self.groups or attrs.group in self.groups)
            and (not self.namespaces or attrs.namespace in self.namespaces)
        )


@dataclass
class Auth:
    """The server's authentication and authorisation settings."""

    tokens: Mapping[str, User] = field(default_factory=dict)
    allow_anonymous: bool = False
    rules: Sequence[Rule] = ()

    def authenticate(self, path: str, authorization: str | None, peer_cert: Any) -> User:
        """The requesting user, or 401 Unauthorized."""
        if authorization and authorization.lower().startswith("bearer "):
            user = self.tokens.get(authorization[7:].strip())
            if user is not None:
                return user
            raise APIError(401, "Unauthorized", "Unauthorized")
        if peer_cert:
            subject = dict(part[0] for part in peer_cert.get("subject", ()) if part)
            groups = tuple(
                value
                for part in peer_cert.get("subject", ())
                for key, value in part
                if key == "organizationName"
            )
            name = subject.get("commonName")
            if name:
                return User(str(name), groups)
        if self.allow_anonymous or path in PUBLIC_PATHS:
            return User("system:anonymous", ("system:unauthenticated",))
        raise APIError(401, "Unauthorized", "Unauthorized")

    def allows(self, attrs: Attributes) -> bool:
        """Whether the rules allow ``attrs`` (everything is allowed when there are none)."""
        return (
            not self.rules
            or attrs.path in PUBLIC_PATHS
            or any(rule.allows(attrs) for rule in self.rules)
        )

    def user_for_token(self, token: str) -> User | None:
        return self.tokens.get(token)

    def authorize(self, attrs: Attributes) -> None:
        """Return when allowed; raise 403 Forbidden with kube-apiserver's wording otherwise."""
        if self.allows(attrs):
            return
        who = f'User "{attrs.user.name}"'
        if not attrs.resource:
            raise APIError(
                403,
                "Forbidden",
                f'forbidden: {who} cannot {attrs.verb} path "{attrs.path}"',
                {},
            )
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        where = f' in the namespace "{attrs.namespace}"' if attrs.namespace else ""
        qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
        subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
        details: dict[str, Any] = {"kind": attrs.resource}
        if attrs.name:
            details["name"] = attrs.name
        if attrs.group:
            details["group"] = attrs.group
        raise APIError(
            403,
            "Forbidden",
            f'{subject} is forbidden: {who} cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}"{where}',
            details,
        )
