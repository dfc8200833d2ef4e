"""Adapters: the only code that talks to AWS or HTTP. Each takes its client by injection."""
