"""Moved to `plowline.streams.kafka`; this name is the same module object for one release."""

import sys

from plowline.streams import kafka as _moved
from plowline.streams.kafka import *  # noqa: F403  (what mypy and readers see here)

sys.modules[__name__] = _moved
