"""Executing: plans, sinks, the history table and the lock."""
