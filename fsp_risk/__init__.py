"""fsp-risk: Monte Carlo financial risk for councils running Family Safeguarding (Family Solutions Plus)."""
from .config import Config, load_config, parse_config
from .errors import ConfigError, FspRiskError, ModelError, RunError
from .model import simulate

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "FspRiskError", "ModelError", "RunError", "load_config", "parse_config",
           "simulate", "__version__"]
