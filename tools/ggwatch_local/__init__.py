"""Local stand-ins for AWS services that ggwatch talks to, for tests and the live demo."""
