"""The event catalogue, the event envelope, upcasting and the event store.

This package knows nothing of partners, HTTP or brokers.
"""
