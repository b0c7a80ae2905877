"""Moved to `plowline.streams.aws`; this name is the same module object for one release."""

import sys

from plowline.streams import aws as _moved
from plowline.streams.aws import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
