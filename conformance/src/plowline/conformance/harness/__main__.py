"""``python -m plowline.conformance.harness``: the ``plowline conformance`` commands, standalone."""

from __future__ import annotations

import sys

from plowline.conformance.harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
