"""Moved to `plowline.streams.base`; this name is the same module object for one release."""

import sys

from plowline.streams import base as _moved
from plowline.streams.base import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
