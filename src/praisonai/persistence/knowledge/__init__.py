"""Knowledge (vector) stores. The contract is in ``base``, the filter language in ``filters``."""
