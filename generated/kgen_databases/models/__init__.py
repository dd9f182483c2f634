"""Model classes of kgen_databases, one module per API group/version (import the module you need):

- ``autoscaling_v1``
- ``databases_v1``
- ``databases_v1alpha1``
- ``databases_v1beta1``"""
