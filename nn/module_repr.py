"""`ReprMixin`: `repr(module)`, the tree as PyTorch prints it, with each layer's `extra_repr`;
a base class of `nn.Module`, to keep nn/module.py short.
"""

from __future__ import annotations

__all__ = ["ReprMixin"]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class ReprMixin:
    """`nn.Module`'s repr (it reads the `_modules` table)."""

    # -- representation -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's repr (a layer's settings)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"
