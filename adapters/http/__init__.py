"""The HTTP API (NL API Design Rules: /v1, Dutch resource names, problem+json)."""
