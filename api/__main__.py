"""``python -m mm4m`` runs the command line."""

from mm4m.cli.main import main

raise SystemExit(main())
