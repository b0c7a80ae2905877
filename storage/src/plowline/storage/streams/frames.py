"""Moved to `plowline.streams.frames`; this name is the same module object for one release."""

import sys

from plowline.streams import frames as _moved
from plowline.streams.frames import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
