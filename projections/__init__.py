"""Read models built from the event stream (catch-up with checkpoints).

They hold no personal data."""
