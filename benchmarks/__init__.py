"""kedja's benchmark suite: kedja vs PyTorch (CPU or CUDA) vs a hand-written NumPy floor.

Run everything with ``python -m benchmarks.run`` (``--quick`` for a smoke run); see
docs/benchmarks.md for what each workload measures and how to read the ratios.
"""
