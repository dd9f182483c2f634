"""kubeconfig loading and merging, exec credential plugins and in-cluster configuration.

``load_kubeconfig()`` builds a :class:`kgen.rest.Config` the way kubectl chooses its cluster and
credentials (exec plugins, and the ``oidc`` auth provider whose refreshed tokens are written back
to the kubeconfig), with kubectl's global flags given as :class:`Overrides`;
``in_cluster_config()`` does the same from a pod's service account; ``load()`` picks one of the
two. The merged kubeconfig itself is available as a typed model (``load_merged()``)
and as the JSON that ``kubectl config view --merge --flatten --raw -o json`` prints
(``merged_view()``).
"""

from kgen.config._authprovider import REMOVED_PROVIDERS
from kgen.config._client import DEFAULT_NAMESPACE, client_config, load_kubeconfig
from kgen.config._errors import (
    AuthProviderError,
    ConfigError,
    EmptyConfigError,
    ExecPluginError,
    InClusterError,
    KubeconfigError,
)
from kgen.config._exec import (
    EXEC_API_VERSIONS,
    EXEC_INFO_ENV,
    ExecAuthProvider,
    exec_config_problems,
    shared_exec_provider,
)
from kgen.config._incluster import (
    SERVICE_ACCOUNT_DIR,
    in_cluster_config,
    in_cluster_possible,
    load,
)
from kgen.config._loader import (
    KUBECONFIG_ENV,
    default_filename,
    flatten,
    load_merged,
    loading_precedence,
    merge,
    merged_view,
    minify,
    resolve_path,
)
from kgen.config._model import (
    AuthInfo,
    AuthProviderConfig,
    Cluster,
    Context,
    ExecConfig,
    ExecEnvVar,
    Kubeconfig,
    Preferences,
    to_wire,
)
from kgen.config._oidc import OIDCAuthProvider
from kgen.config._overrides import Overrides
from kgen.config._parse import load_file, parse_kubeconfig

__all__ = [
    "DEFAULT_NAMESPACE",
    "EXEC_API_VERSIONS",
    "EXEC_INFO_ENV",
    "KUBECONFIG_ENV",
    "REMOVED_PROVIDERS",
    "SERVICE_ACCOUNT_DIR",
    "AuthInfo",
    "AuthProviderConfig",
    "AuthProviderError",
    "Cluster",
    "ConfigError",
    "Context",
    "EmptyConfigError",
    "ExecAuthProvider",
    "ExecConfig",
    "ExecEnvVar",
    "ExecPluginError",
    "InClusterError",
    "Kubeconfig",
    "KubeconfigError",
    "OIDCAuthProvider",
    "Overrides",
    "Preferences",
    "client_config",
    "default_filename",
    "exec_config_problems",
    "flatten",
    "in_cluster_config",
    "in_cluster_possible",
    "load",
    "load_file",
    "load_kubeconfig",
    "load_merged",
    "loading_precedence",
    "merge",
    "merged_view",
    "minify",
    "parse_kubeconfig",
    "resolve_path",
    "shared_exec_provider",
    "to_wire",
]
