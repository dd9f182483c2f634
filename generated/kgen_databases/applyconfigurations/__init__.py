"""Apply configurations of kgen_databases for server-side apply, one module per API group/version (import the module you need):

- ``databases_v1``
- ``databases_v1alpha1``
- ``databases_v1beta1``"""
