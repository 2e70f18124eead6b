"""``python -m asyncz.cli``: the same as the ``asyncz`` command."""

from asyncz.cli import main

raise SystemExit(main())
