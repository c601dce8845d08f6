"""``python -m praisonai.persistence``: see :mod:`praisonai.persistence.cli`."""

import sys

from .cli import main

sys.exit(main())
