"""``python -m r2n2_viewer.cli``: the ``r2n2`` command (used under ``torchrun``)."""

import sys

from . import main

sys.exit(main())
