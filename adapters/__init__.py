"""Everything that speaks to the outside world: CLI, HTTP, broker, partner formats, exports."""
