"""kgen's merged, flattened kubeconfig view against the real kubectl's, on the same files.

Each scenario writes kubeconfig files under tmp_path, then runs
``kubectl config view --merge --flatten --raw -o json`` with KUBECONFIG and HOME set, from a
working directory other than the files' folders (so relative paths must be resolved against the
file that names them), and compares its JSON with :func:`kgen.config.merged_view`.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgen.config import KubeconfigError, merged_view

from .conftest import WriteFile
from .helpers import KUBECTL, VERSIONED_KUBECTLS, kubectl_json, kubectl_view

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]

FILE_A = """\
apiVersion: v1
kind: Config
clusters:
- name: cow-cluster
  cluster:
    server: http://cow.org:8080
users:
- name: red-user
  user:
    token: red-token
contexts:
- name: federal-context
  context: {cluster: cow-cluster, user: red-user, namespace: hammer-ns}
"""

FILE_B = """\
apiVersion: v1
kind: Config
current-context: federal-context
preferences: {colors: true}
clusters:
- name: cow-cluster
  cluster:
    server: http://cow.org:8080
    insecure-skip-tls-verify: true
    disable-compression: true
- name: donkey-cluster
  cluster: {server: "http://donkey.org:8080"}
users:
- name: red-user
  user: {token: a-different-red-token, username: extra}
- name: yellow-user
  user: {token: yellow-token}
contexts:
- name: federal-context
  context: {cluster: donkey-cluster, user: yellow-user}
"""

# Every field of the v1 schema, at every level that has extensions, with data fields, both exec
# API versions (v1beta1 gets its interactiveMode default) and an auth provider.
FILE_FULL = """\
kind: Config
apiVersion: v1
preferences:
  extensions:
  - name: pref-ext
    extension: {apiVersion: v1, kind: Thing, x: [1, 2]}
clusters:
- name: full
  cluster:
    server: https://full.example:6443/prefix?q=1
    tls-server-name: api.example
    certificate-authority-data: Q0EgREFUQQo=
    proxy-url: http://proxy.example:3128
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: full}
- name: no-server
  cluster: {}
users:
- name: certs
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
    as: alice
    as-uid: "1000"
    as-groups: [admins, devs]
    as-user-extra: {scopes: [view, edit], empty: []}
- name: basic
  user: {username: bob, password: "s3cret"}
- name: beta-exec
  user:
    exec:
      command: aws
      args: [eks, get-token]
      env: [{name: AWS_PROFILE, value: prod}, {name: EMPTY}]
      apiVersion: client.authentication.k8s.io/v1beta1
      installHint: install aws
      provideClusterInfo: true
- name: v1-exec
  user:
    exec: {command: plugin, args: [], apiVersion: client.authentication.k8s.io/v1,
           interactiveMode: Never}
- name: provider
  user:
    auth-provider: {name: oidc, config: {client-id: kgen}}
    extensions:
    - name: user-ext
      extension: {a: 1}
- name: empty-provider-config
  user:
    auth-provider: {name: gcp, config: {}}
contexts:
- name: full
  context:
    cluster: full
    user: certs
    namespace: team
    extensions:
    - name: ctx-ext
      extension: {b: true}
- name: bare
  context: {}
extensions:
- name: top
  extension: {apiVersion: v1, kind: Top, nested: {deep: [null, 1.5, "s"]}}
"""


def _relative_paths_file(prefix: str) -> str:
    return f"""\
clusters:
- name: {prefix}-cluster
  cluster: {{server: "https://{prefix}.example", certificate-authority: certs/ca.pem}}
users:
- name: {prefix}-user
  user:
    client-certificate: certs/client.pem
    client-key: ../{prefix}-keys/client.key
    tokenFile: token.txt
    exec: {{command: ./bin/plugin, apiVersion: client.authentication.k8s.io/v1beta1}}
contexts:
- name: {prefix}
  context: {{cluster: {prefix}-cluster, user: {prefix}-user}}
current-context: {prefix}
"""


def _write_relative_set(write: WriteFile) -> None:
    for prefix in ("one", "two"):
        write(f"{prefix}/config", _relative_paths_file(prefix))
        write(f"{prefix}/certs/ca.pem", f"{prefix} CA\n")
        write(f"{prefix}/certs/client.pem", f"{prefix} client cert\n")
        write(f"{prefix}-keys/client.key", f"{prefix} client key\n")


def _assert_same_view(
    tmp_path: Path, kubeconfig: str | None, kubectl: str | None = None, context: str | None = None
) -> None:
    """Same view; with ``context`` (maybe empty: the current one), ``--minify`` for it."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    extra = [] if context is None else ["--minify", *(["--context", context] if context else [])]
    expected = kubectl_json(tmp_path, kubeconfig, cwd, kubectl, extra)
    environ = {"HOME": str(tmp_path)}
    if kubeconfig is not None:
        environ["KUBECONFIG"] = kubeconfig
    view = merged_view(environ=environ, minified=context is not None, context=context)
    assert view == expected


def test_merging_some_with_conflict_first_file_wins_whole_entries(
    tmp_path: Path, write: WriteFile
) -> None:
    a, b = write("a.yaml", FILE_A), write("b.yaml", FILE_B)
    _assert_same_view(tmp_path, f"{a}{os.pathsep}{b}")
    view = merged_view(environ={"KUBECONFIG": f"{a}{os.pathsep}{b}"})
    (cow,) = [c for c in view["clusters"] if c["name"] == "cow-cluster"]
    assert cow["cluster"] == {"server": "http://cow.org:8080"}
    assert view["current-context"] == "federal-context"


def test_reverse_order_gives_the_other_file_precedence(tmp_path: Path, write: WriteFile) -> None:
    a, b = write("a.yaml", FILE_A), write("b.yaml", FILE_B)
    _assert_same_view(tmp_path, f"{b}{os.pathsep}{a}")


def test_every_field_round_trips_like_kubectl(tmp_path: Path, write: WriteFile) -> None:
    full = write("full.yaml", FILE_FULL)
    _assert_same_view(tmp_path, str(full))


def test_relative_paths_resolve_against_their_own_file(tmp_path: Path, write: WriteFile) -> None:
    _write_relative_set(write)
    listed = os.pathsep.join(str(tmp_path / p / "config") for p in ("one", "two"))
    _assert_same_view(tmp_path, listed)


def test_kubeconfig_list_skips_empty_duplicate_and_missing_entries(
    tmp_path: Path, write: WriteFile
) -> None:
    a, b = write("a.yaml", FILE_A), write("b.yaml", FILE_B)
    missing = tmp_path / "missing.yaml"
    listed = os.pathsep.join(["", str(missing), str(b), "", str(a), str(b), str(missing)])
    _assert_same_view(tmp_path, listed)


def test_home_kube_config_is_the_default(tmp_path: Path, write: WriteFile) -> None:
    write(".kube/config", FILE_FULL)
    _assert_same_view(tmp_path, None)


def test_nothing_configured_is_an_empty_view(tmp_path: Path, write: WriteFile) -> None:
    empty = write("empty.yaml", "")
    _assert_same_view(tmp_path, None)
    _assert_same_view(tmp_path, f"{tmp_path / 'absent.yaml'}{os.pathsep}{empty}")


def test_current_context_from_the_first_file_that_sets_one(
    tmp_path: Path, write: WriteFile
) -> None:
    first = write("first.yaml", "clusters:\n- name: x\n  cluster: {server: https://x}\n")
    second = write("second.yaml", "current-context: second\npreferences: {colors: false}\n")
    third = write("third.yaml", "current-context: third\npreferences: {colors: true}\n")
    _assert_same_view(tmp_path, os.pathsep.join(map(str, (first, second, third))))


@pytest.mark.parametrize("context", ["", "full", "bare"])
def test_minify_keeps_one_context_with_its_cluster_and_user(
    tmp_path: Path, write: WriteFile, context: str
) -> None:
    with_current = FILE_FULL.replace(
        "\nextensions:\n- name: top", "\ncurrent-context: full\n" "extensions:\n- name: top"
    )
    _assert_same_view(tmp_path, str(write("full.yaml", with_current)), context=context)


def test_minify_merged_files_for_the_current_context(tmp_path: Path, write: WriteFile) -> None:
    a, b = write("a.yaml", FILE_A), write("b.yaml", FILE_B)
    _assert_same_view(tmp_path, os.pathsep.join(map(str, (a, b))), context="")


def test_minify_flattens_only_what_it_keeps(tmp_path: Path, write: WriteFile) -> None:
    _write_relative_set(write)
    (tmp_path / "two" / "certs" / "ca.pem").unlink()  # only the dropped cluster names it
    listed = os.pathsep.join(str(tmp_path / p / "config") for p in ("one", "two"))
    _assert_same_view(tmp_path, listed, context="one")
    with pytest.raises(KubeconfigError, match="cannot read"):
        merged_view(environ={"KUBECONFIG": listed})


MINIFY_ERRORS = {
    "no-current-context": ("clusters: [{name: c, cluster: {server: 'https://c'}}]\n", ""),
    "unknown-context": ("contexts: [{name: x, context: {}}]\ncurrent-context: x\n", "nope"),
    "missing-cluster": ("contexts: [{name: x, context: {cluster: gone}}]\n", "x"),
    "missing-user": ("contexts: [{name: x, context: {user: gone}}]\n", "x"),
}


@pytest.mark.parametrize("case", sorted(MINIFY_ERRORS))
def test_minify_errors_like_kubectl(tmp_path: Path, write: WriteFile, case: str) -> None:
    text, context = MINIFY_ERRORS[case]
    path = write("k.yaml", text)
    extra = ["--minify", *(["--context", context] if context else [])]
    done = kubectl_view(tmp_path, str(path), tmp_path, extra=extra)
    assert done.returncode != 0
    with pytest.raises(KubeconfigError):
        merged_view(environ={"KUBECONFIG": str(path)}, minified=True, context=context)


BAD_FILES = {
    "duplicate-name": "clusters:\n- name: a\n  cluster: {}\n- name: a\n  cluster: {}\n",
    "bad-base64": "clusters:\n- name: a\n  cluster: {certificate-authority-data: 'aGVsbG8'}\n",
    "wrong-type": "users:\n- name: u\n  user: {token: 123}\n",
    "y-is-a-boolean": "users:\n- name: u\n  user: {token: y}\n",
    "N-is-a-boolean": "users:\n- name: u\n  user: {username: N}\n",
    "not-a-list": "contexts: {a: b}\n",
    "wrong-kind": "apiVersion: v1\nkind: Pod\n",
    "bad-yaml": "clusters: [\n",
    "ca-path-and-data": (
        "clusters:\n- name: a\n  cluster: {certificate-authority: ca.pem,"
        " certificate-authority-data: Q0EK}\n"
    ),
    "key-path-and-data": "users:\n- name: u\n  user: {client-key: k.pem, client-key-data: Q0EK}\n",
    "missing-ca-file": "clusters:\n- name: a\n  cluster: {certificate-authority: nowhere.pem}\n",
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_files_kubectl_rejects_are_rejected_naming_the_file(
    tmp_path: Path, write: WriteFile, case: str
) -> None:
    bad = write("bad.yaml", BAD_FILES[case])
    write("ca.pem", "CA\n")
    write("k.pem", "KEY\n")
    done = kubectl_view(tmp_path, str(bad), tmp_path)
    assert done.returncode != 0
    with pytest.raises(KubeconfigError) as caught:
        merged_view(environ={"KUBECONFIG": str(bad)})
    assert caught.value.file == str(bad)
    assert str(bad) in str(caught.value)


@pytest.mark.parametrize("kubectl", VERSIONED_KUBECTLS, ids=[p.name for p in VERSIONED_KUBECTLS])
def test_agreement_holds_for_each_installed_kubectl_version(
    tmp_path: Path, write: WriteFile, kubectl: Path
) -> None:
    a, b = write("a.yaml", FILE_A), write("full.yaml", FILE_FULL)
    _write_relative_set(write)
    listed = os.pathsep.join([str(a), str(tmp_path / "one" / "config"), str(b)])
    _assert_same_view(tmp_path, listed, str(kubectl))


NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta"])
TEXT = st.sampled_from(["", "value", "https://h.example:6443", "ns-one", "user@example"])
DATA = st.binary(max_size=12).map(lambda raw: base64.b64encode(raw).decode())
FILE_REF = st.sampled_from(["ca.pem", "sub/cert.pem", "../shared.pem"])


def _sparse(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def _named(value_key: str, value: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.tuples(NAMES, value), max_size=3, unique_by=lambda item: item[0]).map(
        lambda items: [{"name": name, value_key: v} for name, v in items]
    )


EXTENSIONS = _named("extension", st.dictionaries(NAMES, TEXT, max_size=2))
CLUSTER = _sparse(
    {
        "server": TEXT,
        "tls-server-name": TEXT,
        "insecure-skip-tls-verify": st.booleans(),
        "certificate-authority": FILE_REF,
        "proxy-url": TEXT,
        "disable-compression": st.booleans(),
        "extensions": EXTENSIONS,
    }
)
EXEC = _sparse(
    {
        "command": TEXT,
        "args": st.lists(TEXT, max_size=2),
        "env": st.lists(st.fixed_dictionaries({"name": NAMES, "value": TEXT}), max_size=2),
        "installHint": TEXT,
        "provideClusterInfo": st.booleans(),
        "interactiveMode": st.sampled_from(["Never", "IfAvailable", "Always"]),
    }
).flatmap(
    lambda fields: st.sampled_from(
        ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
    ).map(lambda version: {**fields, "apiVersion": version})
)
USER = _sparse(
    {
        "client-certificate-data": DATA,
        "client-key": FILE_REF,
        "token": TEXT,
        "tokenFile": FILE_REF,
        "as": TEXT,
        "as-groups": st.lists(TEXT, max_size=2),
        "as-user-extra": st.dictionaries(NAMES, st.lists(TEXT, max_size=2), max_size=2),
        "username": TEXT,
        "auth-provider": st.fixed_dictionaries(
            {"name": TEXT}, optional={"config": st.dictionaries(NAMES, TEXT, max_size=2)}
        ),
        "exec": EXEC,
        "extensions": EXTENSIONS,
    }
)
CONTEXT = _sparse({"cluster": NAMES, "user": NAMES, "namespace": TEXT, "extensions": EXTENSIONS})
KUBECONFIG_FILE = _sparse(
    {
        "current-context": st.one_of(st.just(""), NAMES),
        "preferences": _sparse({"colors": st.booleans(), "extensions": EXTENSIONS}),
        "clusters": _named("cluster", CLUSTER),
        "users": _named("user", USER),
        "contexts": _named("context", CONTEXT),
        "extensions": EXTENSIONS,
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(KUBECONFIG_FILE, min_size=1, max_size=3))
def test_random_kubeconfig_sets_merge_like_kubectl(files: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = []
        for index, content in enumerate(files):
            path = root / f"dir{index}" / "config"
            path.parent.mkdir()
            path.write_text(json.dumps(content))  # JSON is YAML that every parser reads alike
            for ref in ("ca.pem", "sub/cert.pem", "../shared.pem"):
                (path.parent / ref).parent.mkdir(exist_ok=True)
                (path.parent / ref).write_text(f"{index} {ref}\n")
            paths.append(str(path))
        _assert_same_view(root, os.pathsep.join(paths))
