"""Helpers that run peer change-point detectors in their own virtual environments."""
