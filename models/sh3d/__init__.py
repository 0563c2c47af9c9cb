"""Sweet Home 3D furniture libraries as a ShapeNet-format dataset (``r2n2 import-sh3d``)."""
