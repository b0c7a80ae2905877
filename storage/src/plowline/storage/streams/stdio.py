"""Moved to `plowline.streams.stdio`; this name is the same module object for one release."""

import sys

from plowline.streams import stdio as _moved
from plowline.streams.stdio import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
