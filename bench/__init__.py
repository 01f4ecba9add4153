"""Throughput benchmark of the event store against a raw-insert limit and a peer library.

Run it with ``python -m bench.run`` (or ``make bench``); see ``bench.run`` for the options.
"""
