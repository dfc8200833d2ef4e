"""Services: the use cases, written against the ports so they run the same on AWS and in tests."""
