"""Entrypoints: the HTTP API and the command line. They translate and delegate to use cases."""
