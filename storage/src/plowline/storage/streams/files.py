"""Moved to `plowline.streams.files`; this name is the same module object for one release."""

import sys

from plowline.streams import files as _moved
from plowline.streams.files import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
