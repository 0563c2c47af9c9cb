"""ShapeNet-format datasets: reader, augmentation, splits."""
