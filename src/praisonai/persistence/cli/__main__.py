"""``python -m praisonai.persistence.cli``: the same as ``python -m praisonai.persistence``."""

import sys

from . import main

sys.exit(main())
