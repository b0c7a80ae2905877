"""Moved to `plowline.streams.s3`; this name is the same module object for one release."""

import sys

from plowline.streams import s3 as _moved
from plowline.streams.s3 import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
