"""The review resources: answered from the server's authentication and rules, never stored.

``SelfSubjectAccessReview``, ``SubjectAccessReview`` and ``LocalSubjectAccessReview`` say whether
a user may do something; ``SelfSubjectReview`` says who the caller is; ``TokenReview`` says who
a token belongs to. A create returns the request with its ``status`` filled (201), as
kube-apiserver does. Pure functions of the request and the :class:`Auth` settings.
"""

from __future__ import annotations

from typing import Any

from kgen.testing._auth import Attributes, Auth, User
from kgen.testing._errors import APIError

__all__ = ["REVIEWS", "SELF_REVIEWS", "review"]

JSON = dict[str, Any]

REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("authorization.k8s.io", "localsubjectaccessreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authentication.k8s.io", "tokenreviews"),
    }
)
"""The ``(group, plural)`` of the resources :func:`review` answers."""

SELF_REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    }
)
"""Reviews every authenticated user may create, whatever the rules (as on a real cluster)."""


def _user_info(user: User) -> JSON:
    return {"username": user.name, "groups": list(user.groups)}


def _access(auth: Auth, user: User, spec: JSON, namespace: str) -> JSON:
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        attrs = Attributes(
            user,
            str(resource.get("verb", "")),
            str(resource.get("group", "")),
            str(resource.get("resource", "")),
            str(resource.get("subresource", "")),
            namespace or str(resource.get("namespace", "")),
            str(resource.get("name", "")),
        )
    else:
        other = spec.get("nonResourceAttributes") or {}
        attrs = Attributes(user, str(other.get("verb", "")), path=str(other.get("path", "")))
    allowed = auth.allows(attrs)
    status: JSON = {"allowed": allowed}
    if not allowed:
        status["reason"] = "no rule of the kgen.testing allow-list matches"
    return status


def review(plural: str, body: Any, caller: User, auth: Auth, namespace: str) -> JSON:
    """The answered review for a create of ``plural`` by ``caller``."""
    if not isinstance(body, dict):
        raise APIError.bad_request("the body of a review must be a JSON object")
    answer = dict(body)
    raw_spec = answer.get("spec")
    spec: JSON = raw_spec if isinstance(raw_spec, dict) else {}
    answer.setdefault("metadata", {})
    if plural == "selfsubjectreviews":
        answer["status"] = {"userInfo": _user_info(caller)}
    elif plural == "tokenreviews":
        user = auth.user_for_token(str(spec.get("token", "")))
        answer["status"] = (
            {"authenticated": True, "user": _user_info(user)} if user else {"authenticated": False}
        )
    elif plural == "selfsubjectaccessreviews":
        answer["status"] = _access(auth, caller, spec, "")
    else:
        subject = User(str(spec.get("user", "")), tuple(spec.get("groups") or ()))
        answer["status"] = _access(auth, subject, spec, namespace)
    return answer
