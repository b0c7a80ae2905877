"""``python -m plowline.collector``: the same as the ``plowline-collector`` command."""

from plowline.collector.cli import main

raise SystemExit(main())
