"""shadowmap: find shadow AI and stop company data from leaking into it."""
__version__ = "0.1.0"
