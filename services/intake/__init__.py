"""Signal intake: validate → deduplicate → record → match the household (DESIGN §5)."""
