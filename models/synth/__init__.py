"""Procedural ShapeNet-format dataset generator."""
