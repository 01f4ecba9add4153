"""The hub's FastStream applications on NATS JetStream: intake of partner signals, and later
the outbound publications (DESIGN §3, §5, §7)."""
