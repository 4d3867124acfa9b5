"""The MCP server (`coord mcp`) through which an analyst's assistant reads campaigns, read-only."""
