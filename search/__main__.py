"""``python -m search``."""

import sys

from search._cli import main

sys.exit(main())
