"""The version of the a-share-orders skill and package: the one place it is written (pyproject.toml reads it)."""

__version__ = "0.1.0"
