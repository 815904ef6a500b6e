"""Fixtures for the MCP server's tests (see helpers.py): the server spawned over stdio by the SDK's own Client."""

from tests.mcp.helpers import mcp_server

__all__ = ["mcp_server"]
