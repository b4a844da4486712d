"""``python -m fsp_risk``: the same command line as ``fsp-risk``."""
from fsp_risk.app.cli import main

raise SystemExit(main())
