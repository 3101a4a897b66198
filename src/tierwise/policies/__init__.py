"""Stability policies and overrides: how computed tiers become the tiers customers hold."""
