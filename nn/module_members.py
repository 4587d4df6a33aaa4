"""`MembersMixin`: a module's parameters and buffers, walked over its tree (`parameters`,
`named_buffers`, `num_parameters`, ...); a base class of `nn.Module`, to keep nn/module.py short.
"""

from __future__ import annotations

from collections.abc import Iterator

from autograd.tensor import Tensor

from .parameter import Parameter

__all__ = ["MembersMixin"]


class MembersMixin:
    """`nn.Module`'s parameter and buffer walks (over the modules that `named_modules` yields)."""

    def _named_members(
        self, table: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse else [(prefix, self)]
        )
        seen = set()
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yields ``(dotted name, parameter)``; a shared parameter comes once, first name wins.

        Args:
            prefix: prepended to every name (``prefix.weight``).
            recurse: include submodules' parameters (else only this module's own).
            remove_duplicate: skip parameters already yielded under another name.
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters, in registration order, each once (what an optimizer takes)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yields ``(dotted name, buffer)`` for every buffer that is not None."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (running statistics and the like)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, only_trainable: bool = False) -> int:
        """The number of scalars in the parameters (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not only_trainable)

    @property
    def parameter_count(self) -> int:
        """The number of scalars in all parameters (`num_parameters()`)."""
        return self.num_parameters()
