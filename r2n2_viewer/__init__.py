"""r2n2-viewer: see 3D-R2N2 refine its reconstruction view by view."""

__version__ = "0.1.0"
