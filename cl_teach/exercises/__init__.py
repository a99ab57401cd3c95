"""Checker functions for the notebooks' exercises: feedback, not grades."""
