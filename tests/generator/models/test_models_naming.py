"""kgen.generator.naming: Python names for things from API documents."""

from __future__ import annotations

import pytest

from kgen.generator import naming


@pytest.mark.parametrize(
    ("wire", "attr"),
    [
        ("podIPs", "pod_ips"),
        ("externalIPs", "external_ips"),
        ("hostIPC", "host_ipc"),
        ("apiVersion", "api_version"),
        ("serverAddressByClientCIDRs", "server_address_by_client_cidrs"),
        ("x-kubernetes-preserve-unknown-fields", "x_kubernetes_preserve_unknown_fields"),
        ("continue", "continue_"),
        ("type", "type_"),
        ("match", "match_"),
        ("_", "field_"),
        ("str", "str_"),
        ("msgspec", "msgspec_"),
        ("__init__", "init"),
        ("__import__", "import_"),
        ("$ref", "ref"),
        ("1st", "n_1st"),
        ("", "field_"),
        ("a b\nc", "a_b_c"),
    ],
)
def test_attribute_name(wire: str, attr: str) -> None:
    assert naming.attribute_name(wire) == attr


def test_attribute_names_resolve_clashes_in_order() -> None:
    assert naming.attribute_names(["fooBar", "foo_bar", "foo-bar", "foo_bar_2"]) == [
        "foo_bar",
        "foo_bar_2",
        "foo_bar_3",
        "foo_bar_2_2",
    ]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("io.k8s.api.core.v1.Pod", "Pod"),
        ("com.example.v1.widget", "Widget"),
        ("x.v1.None", "None_"),
        ("x.v1.Exception", "Exception_"),
        ("x.v1.3D", "T3D"),
        ('x.v1.a"b', "A_b"),
        ("x.v1.", "Model_"),
    ],
)
def test_class_name(name: str, cls: str) -> None:
    assert naming.class_name(name) == cls


def test_group_version_attr_and_collisions() -> None:
    assert naming.group_version_attr("", "v1") == "core_v1"
    assert naming.group_version_attr("apps", "v1") == "apps_v1"
    groups = ["networking.k8s.io", "networking.istio.io", "networking.gke.io"]
    assert [naming.group_version_attr(g, "v1", groups) for g in groups] == [
        "networking_v1",
        "networking_istio_v1",
        "networking_gke_v1",
    ]
    assert naming.group_version_attr("core.example.com", "v1", [""]) == "core_example_v1"
    assert naming.group_version_attr("a.b.c", "v1", ["a.b.d"]) == "a_v1"
    assert naming.group_version_attr("a.b.d", "v1", ["a.b.c"]) == "a_b_d_v1"


def test_module_for_definition() -> None:
    assert naming.module_for_definition("io.k8s.api.core.v1.Pod") == "core_v1"
    assert naming.module_for_definition("io.k8s.apimachinery.pkg.version.Info") == "version"
    assert naming.module_for_definition("Foo") == "types"
    assert naming.module_for_definition("a.class.Foo") == "class_"


def test_literals() -> None:
    assert naming.python_string("plain") == '"plain"'
    assert naming.python_string('say "hi"') == "'say \"hi\"'"
    assert naming.docstring('ends with "') == '"""ends with \\""""'
    assert naming.docstring("tab\there") == '"""tab\\there"""'
