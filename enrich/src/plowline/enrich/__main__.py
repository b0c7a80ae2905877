"""``python -m plowline.enrich`` = the ``plowline-enrich`` command."""

from __future__ import annotations

import sys

from plowline.enrich.cli import main

if __name__ == "__main__":
    sys.exit(main())
