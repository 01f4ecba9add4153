"""Management reports and the DDAS export (DESIGN §8)."""
