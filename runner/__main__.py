"""`python -m runner` is the same program as `medlb`."""

from runner.cli import main

raise SystemExit(main())
