"""The MCP server: the account's orders, cash, positions and quotes as MCP tools, and cancels the user confirms
through MCP elicitation or a one-time approval page (`python -m scripts.mcp`, `a-share-orders mcp`)."""

from .server import build_server, main

__all__ = ["build_server", "main"]
