"""Organisations, API keys, scopes and the current caller."""
