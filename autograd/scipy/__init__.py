"""`autograd.scipy`: SciPy's special functions and distributions, differentiable on kedja
Tensors (on NumPy and CuPy alone: SciPy is used only where it is installed, for speed and for
plain-data calls). Submodules: `special`, `stats`, `linalg`, `signal`, `integrate`."""

from . import integrate, linalg, signal, special, stats  # noqa: F401
