"""The paper broker: the trading API (`docs/api.md`) over SQLite, with the A-share rules and simulation control.

Start it with `python -m scripts.broker`, or in-process with `running_broker(BrokerSettings(sim=True))`.
"""

from .app import create_app
from .server import running_broker, serve
from .settings import DEFAULT_ACCOUNT, DEVELOPMENT_TOKEN, BrokerSettings

__all__ = ["DEFAULT_ACCOUNT", "DEVELOPMENT_TOKEN", "BrokerSettings", "create_app", "running_broker", "serve"]
