"""lvae: learned-variance VAEs, and a reproducible companion to Berger & Sebag (2020)."""

__version__ = "0.1.0"
