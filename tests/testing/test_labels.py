"""Label selector grammar, matching and printing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgen import labels
from kgen.labels import Requirement, Selector, SelectorError


@pytest.mark.parametrize(
    ("text", "matching", "not_matching"),
    [
        ("", {}, None),
        ("app=web", {"app": "web"}, {"app": "db"}),
        ("app==web", {"app": "web", "x": "y"}, {}),
        ("app!=web", {}, {"app": "web"}),
        ("app", {"app": ""}, {"other": "x"}),
        ("!app", {"other": "x"}, {"app": "web"}),
        ("env in (prod, qa)", {"env": "qa"}, {"env": "dev"}),
        ("env notin (prod,qa)", {"env": "dev"}, {"env": "prod"}),
        ("env notin (prod)", {}, {"env": "prod"}),
        (
            "tier=fe,env in (a,b),!gone",
            {"tier": "fe", "env": "b"},
            {"tier": "fe", "env": "b", "gone": "1"},
        ),
        ("n>3", {"n": "4"}, {"n": "3"}),
        ("n<3", {"n": "2"}, {"n": "x"}),
        ("example.com/role=x", {"example.com/role": "x"}, {"role": "x"}),
        ("app=", {"app": ""}, {"app": "x"}),
        ("in=0", {"in": "0"}, {"in": "1"}),
        ("a=in", {"a": "in"}, {"a": "notin"}),
        ("notin in (in, notin)", {"notin": "notin"}, {"notin": "x"}),
        ("!in", {"x": "1"}, {"in": ""}),
    ],
)
def test_parse_and_match(
    text: str, matching: dict[str, str], not_matching: dict[str, str] | None
) -> None:
    selector = labels.parse(text)
    assert selector.matches(matching)
    if not_matching is not None:
        assert not selector.matches(not_matching)


def test_canonical_string_sorts_keys_and_values() -> None:
    selector = labels.parse(" z in (b, a) , !y,x == 1, w")
    assert str(selector) == "w,x==1,!y,z in (a,b)"
    assert labels.parse(str(selector)) == selector


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("app in ()", "cannot be empty"),
        ("app in prod", "expected '('"),
        ("app=a=b", "position 5"),
        ("=web", "expected a label key"),
        ("app=we b", "expected ',' or end"),
        ("-bad=1", "invalid label key '-bad'"),
        ("app=" + "v" * 64, "invalid label value"),
        ("/x=1", "prefix part must be non-empty"),
        ("Bad_Prefix/x=1", "DNS subdomain"),
        ("n>x", "integer"),
        ("!app=web", "after '!key'"),
        ("app in (a b)", "expected a value, ',' or ')'"),
    ],
)
def test_errors_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(SelectorError, match=None) as info:
        labels.parse(text)
    assert fragment in str(info.value)


def test_everything_nothing_and_from_set() -> None:
    assert Selector.everything().empty()
    assert Selector.everything().matches(None)
    assert str(Selector.everything()) == ""
    assert not Selector.nothing().matches({})
    assert Selector.nothing().matches_nothing()
    from_set = Selector.from_set({"b": "2", "a": "1"})
    assert str(from_set) == "a=1,b=2"
    assert from_set.matches({"a": "1", "b": "2"}) and not from_set.matches({"a": "1"})
    assert str(from_set.and_(Requirement("c", "exists"))) == "a=1,b=2,c"


def test_from_label_selector() -> None:
    sel = labels.from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert str(sel) == "app=web,!legacy,tier in (be,fe)"
    assert labels.from_label_selector(None).matches_nothing()
    assert labels.from_label_selector({}).empty()
    with pytest.raises(SelectorError, match="'Nope' is not a valid"):
        labels.from_label_selector({"matchExpressions": [{"key": "a", "operator": "Nope"}]})


_names = st.from_regex(r"\A[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?\Z")


@given(st.dictionaries(_names, _names, max_size=4), st.dictionaries(_names, _names, max_size=4))
def test_from_set_round_trips_and_matches_superset(
    wanted: dict[str, str], extra: dict[str, str]
) -> None:
    selector = Selector.from_set(wanted)
    assert labels.parse(str(selector)) == selector
    assert selector.matches({**extra, **wanted})
