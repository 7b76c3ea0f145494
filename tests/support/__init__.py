"""Helpers the test suites share: real databases to run against, and ways to race them."""
