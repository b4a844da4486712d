"""fsp-risk: Monte Carlo financial risk for councils running Family Safeguarding (Family Solutions Plus)."""
from fsp_risk.config import Config, load_config, parse_config
from fsp_risk.engine.simulate import simulate
from fsp_risk.errors import ConfigError, FspRiskError, ModelError, RunError

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "FspRiskError", "ModelError", "RunError", "load_config", "parse_config",
           "simulate", "__version__"]
