"""Moved to `plowline.streams.memory`; this name is the same module object for one release."""

import sys

from plowline.streams import memory as _moved
from plowline.streams.memory import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
