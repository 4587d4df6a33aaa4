"""Layers by family: basic, activation, normalization, conv, pooling, residual, attention,
transformer."""
