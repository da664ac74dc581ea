"""Simulated chat platforms for demos and tests (a loopback wechaty puppet service)."""
