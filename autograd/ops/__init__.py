"""Differentiable ops, one family per module; each op is a `Function` with a lowercase wrapper."""
