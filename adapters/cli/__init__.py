"""The `signaalhub` command line."""
