"""Slack: pure message rendering and webhook configuration (the HTTP client is an adapter)."""
