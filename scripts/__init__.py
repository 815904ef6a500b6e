"""The a-share-orders skill's Python package: `scripts` in the skill folder, `a_share_orders` when installed."""

from ._version import __version__

__all__ = ["__version__"]
