"""Moved to `plowline.streams.kinesis`; this name is the same module object for one release."""

import sys

from plowline.streams import kinesis as _moved
from plowline.streams.kinesis import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
