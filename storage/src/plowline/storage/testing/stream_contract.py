"""Moved to `plowline.streams.testing`; this name is the same module object for one release."""

import sys

from plowline.streams import testing as _moved
from plowline.streams.testing import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
