"""Partner files: monthly exports as CSV or JSON lines."""
