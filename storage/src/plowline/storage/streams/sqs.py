"""Moved to `plowline.streams.sqs`; this name is the same module object for one release."""

import sys

from plowline.streams import sqs as _moved
from plowline.streams.sqs import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
