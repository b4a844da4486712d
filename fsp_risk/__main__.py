"""``python -m fsp_risk``: the same command line as ``fsp-risk``."""
from .cli import main

raise SystemExit(main())
