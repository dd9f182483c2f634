"""The JSONPath dialect of CRD printer columns."""

from __future__ import annotations

import pytest

from kgen.testing._jsonpath import JSONPathError, evaluate

DOC = {
    "spec": {"items": [{"n": 1}, {"n": 2}], "name": "x", "dotted.key": "d"},
    "status": {
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.name", ["x"]),
        ("{.spec.name}", ["x"]),
        (".spec.items[1].n", [2]),
        (".spec.items[-1].n", [2]),
        (".spec.items[*].n", [1, 2]),
        (".spec['dotted.key']", ["d"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        (".status.conditions[?(@.type=='Synced')].status", ["False"]),
        (".status.missing", []),
        (".spec.items[7]", []),
    ],
)
def test_evaluate(path: str, expected: list[object]) -> None:
    assert evaluate(DOC, path) == expected


def test_unsupported_path_is_reported() -> None:
    with pytest.raises(JSONPathError, match="unsupported JSONPath"):
        evaluate(DOC, ".spec..name")
