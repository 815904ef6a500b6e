"""The paper broker: the trading API (`docs/api.md`) over SQLite, with the A-share rules and simulation control.

Start it with `python -m scripts.broker`, or in-process with `running_broker(BrokerSettings(sim=True))`.
"""

from scripts.broker.app import create_app
from scripts.broker.server import running_broker, serve
from scripts.broker.settings import DEFAULT_ACCOUNT, DEVELOPMENT_TOKEN, BrokerSettings

__all__ = ["DEFAULT_ACCOUNT", "DEVELOPMENT_TOKEN", "BrokerSettings", "create_app", "running_broker", "serve"]
