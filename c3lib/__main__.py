"""``python -m c3lib`` runs the ``c3`` command."""

import sys

from c3lib.cli import main

sys.exit(main())
