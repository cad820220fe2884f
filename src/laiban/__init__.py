"""Laiban: a digital assistant for preschools."""

__version__ = "0.1.0"
