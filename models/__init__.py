"""The 3D-R2N2 family in PyTorch and everything needed to make and measure one.

This package knows nothing of Qt or PyVista widgets and never imports r2n2_viewer.
"""
