"""skillcoach core: the platform-neutral heart of the coach."""

__version__ = "0.1.0"
