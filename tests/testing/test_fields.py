"""Field selector grammar, matching and printing."""

from __future__ import annotations

import pytest

from kgen import fields
from kgen.fields import Selector, SelectorError


def test_parse_and_match() -> None:
    selector = fields.parse("metadata.name=web,status.phase!=Failed")
    assert selector.matches({"metadata.name": "web", "status.phase": "Running"})
    assert selector.matches({"metadata.name": "web"})
    assert not selector.matches({"metadata.name": "web", "status.phase": "Failed"})
    assert not selector.matches({"metadata.name": "db"})
    assert selector.fields() == ("metadata.name", "status.phase")
    assert selector.exact_match("metadata.name") == "web"
    assert selector.exact_match("status.phase") is None


def test_double_equals_and_empty() -> None:
    assert fields.parse("spec.nodeName==").matches({"spec.nodeName": ""})
    assert fields.parse("").empty()
    assert Selector.everything().matches({})


def test_escapes_round_trip() -> None:
    selector = fields.parse(r"a=x\,y\=z\\w")
    assert selector.requirements[0].value == "x,y=z\\w"
    assert fields.parse(str(selector)) == selector
    assert str(Selector.from_set({"b": "2", "a": "1"})) == "a=1,b=2"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("metadata.name", "cannot understand 'metadata.name'"),
        ("=x", "cannot understand '=x'"),
        (r"a=b\q", "invalid escape sequence"),
        ("a=b=c", "unescaped '='"),
    ],
)
def test_errors(text: str, fragment: str) -> None:
    with pytest.raises(SelectorError) as info:
        fields.parse(text)
    assert fragment in str(info.value)
