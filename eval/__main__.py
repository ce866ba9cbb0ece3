"""Entry point of `python -m eval`; the work is in eval/cli.py."""

from eval.cli import main

raise SystemExit(main())
