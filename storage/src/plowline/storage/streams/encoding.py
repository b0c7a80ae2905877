"""Moved to `plowline.streams.encoding`; this name is the same module object for one release."""

import sys

from plowline.streams import encoding as _moved
from plowline.streams.encoding import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
