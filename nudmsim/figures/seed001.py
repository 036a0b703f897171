"""Seed 001 figures (placeholder; filled below)."""
