"""Where embedded backends keep their files when no path is given."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Path:
    """``$PRAISONAI_DATA_DIR``, else ``~/.praisonai``."""
    return Path(os.environ.get("PRAISONAI_DATA_DIR") or Path.home() / ".praisonai").expanduser()
