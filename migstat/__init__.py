"""migstat: migration statistics for Mesoamerica and the Caribbean."""

__version__ = "0.1.0"
