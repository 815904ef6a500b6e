"""The a-share-orders skill's Python package, imported as `scripts` from the skill folder."""
