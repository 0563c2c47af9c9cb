"""Bundled default model, demo sequences and icon."""
