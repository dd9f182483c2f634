"""kgen's code generator: turns a :class:`kgen.spec.APIModel` into a typed Python package."""
