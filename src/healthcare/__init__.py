"""Healthcare appointment scheduling: pure domain core, use cases, adapters and entrypoints."""

__version__ = "0.1.0"
