"""``python -m web.cli``: how the stack starts its worker processes."""

from web.cli.main import main

raise SystemExit(main())
