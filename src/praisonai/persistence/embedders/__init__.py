"""Embedders: text in, vectors out. The contract is in ``base``, the built-ins' configs in ``config``."""
