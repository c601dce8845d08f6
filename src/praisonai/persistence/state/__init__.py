"""State stores: JSON values and hashes with TTLs. The contract is in ``base``."""
