"""Delivery rules every Plowline tracker shares: when to give up, default back-off.

GENERATED from spec/delivery/rules.yaml by plowline.spec.generate: do not edit.
Regenerate with: uv run python -m plowline.spec.generate
"""

from typing import Final

# Non-2xx statuses that end a request without retry; every other one is retried.
GIVE_UP_STATUSES: Final = frozenset({400, 401, 403, 410, 422})
MAX_ATTEMPTS: Final = 5
INITIAL_BACKOFF_S: Final = 0.25
BACKOFF_MULTIPLIER: Final = 2.0
MAX_BACKOFF_S: Final = 30.0
JITTER: Final = 0.5
HONOUR_RETRY_AFTER: Final = True
MAX_RETRY_AFTER_S: Final = 300.0
