"""Deterministic seeds: every random draw in the suite starts from ``derive_seed``.

Seeds depend only on the master seed and a string key (a case id), never on test order,
process or worker, so ``pytest -p xdist -n 2`` and a serial run see the same networks.
"""
import hashlib

MASTER_SEED = 20240304  # default --seed: the arXiv date of Neural Redshift (2403.02241)


def derive_seed(master: int, *keys: str) -> int:
    """63-bit seed = first 8 bytes of sha256("master|key1|key2|...")."""
    text = "|".join([str(int(master)), *map(str, keys)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)
