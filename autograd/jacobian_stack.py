"""The differentiable stack that assembles a Jacobian from its rows (`_Stack`, with `_Row` and
`_Embed` for its rules), so that a Jacobian can itself be differentiated (hessian)."""

from __future__ import annotations

from .function import Function


class _Stack(Function):
    """y = the inputs stacked on a new first axis (to assemble differentiable Jacobians)."""

    def forward(self, *xs):
        return self.xp.stack(xs)

    def backward(self, gy):
        return tuple(
            _Row.apply(gy, index=i, count=len(self.next_edges)) if needed else None
            for i, needed in enumerate(self.needs_input_grad)
        )


class _Row(Function):
    """y = x[index] along the first axis (the rule of `_Stack`)."""

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return _Embed.apply(gy, index=self.index, count=self.count)


class _Embed(Function):
    """y = zeros with `x` at row `index` of a new first axis of length `count`."""

    def forward(self, x):
        y = self.xp.zeros((self.count,) + tuple(x.shape), dtype=x.dtype)
        y[self.index] = x
        return y

    def backward(self, gy):
        return _Row.apply(gy, index=self.index, count=self.count)

