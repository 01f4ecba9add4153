"""Simulations for the demo: synthetic teams working their referral queues."""
