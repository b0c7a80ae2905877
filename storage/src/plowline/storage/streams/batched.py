"""Moved to `plowline.streams.batched`; this name is the same module object for one release."""

import sys

from plowline.streams import batched as _moved
from plowline.streams.batched import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
