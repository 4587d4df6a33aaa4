"""The CuPy backend's graph capture against a stub of the CuPy calls it makes (no GPU needed).

tests/backends/test_graph_capture.py checks the behaviour of graphs on the fake device (and on
CuPy where a GPU runs the suite); these tests check, in CI, the order of the CUDA calls the CuPy
path makes: capture on a dedicated non-blocking stream in relaxed mode, every block allocated
during the capture kept by the graph, launches ordered against the current stream by events,
the capture ended (and the allocator and stream restored) when `fn` fails.
"""

from __future__ import annotations

import contextlib
import itertools
from types import SimpleNamespace

import pytest

from backends import GraphCaptureError
from backends.base import DeviceIndexChecks
from backends.cupy_backend import CupyBackend


class StubCUDAError(RuntimeError):
    pass


class StubStream:
    def __init__(self, stub: Stub, name: str, non_blocking: bool = False) -> None:
        self.stub, self.name, self.non_blocking = stub, name, non_blocking
        self.ptr = id(self)
        self.capturing = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StubStream) and other.ptr == self.ptr

    __hash__ = object.__hash__

    def __enter__(self) -> StubStream:
        self.stub.streams.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stub.streams.pop()

    def begin_capture(self, mode: int | None = None) -> None:
        self.stub.log.append(("begin_capture", self.name, mode))
        self.capturing = True

    def end_capture(self) -> StubGraph:
        self.stub.log.append(("end_capture", self.name))
        self.capturing = False
        return StubGraph(self.stub)

    def record(self, event: StubEvent) -> StubEvent:
        self.stub.log.append(("record", self.name, event.name))
        return event

    def wait_event(self, event: StubEvent) -> None:
        self.stub.log.append(("wait_event", self.name, event.name))


class StubGraph:
    def __init__(self, stub: Stub) -> None:
        self.stub = stub

    def launch(self, stream: StubStream) -> None:
        self.stub.log.append(("launch", stream.name))


class StubEvent:
    def __init__(self, name: str) -> None:
        self.name = name


class Stub:
    """The part of ``cupy`` that `CupyBackend`'s graph code calls, logging each call."""

    def __init__(self) -> None:
        self.log: list = []
        self.streams = [StubStream(self, "null")]
        self.allocators = [self.pool_malloc]
        self.ndarray = type("ndarray", (), {})
        events = itertools.cycle(["ready", "done"])

        @contextlib.contextmanager
        def using_allocator(allocator):
            self.allocators.append(allocator)
            try:
                yield
            finally:
                self.allocators.pop()

        self.cuda = SimpleNamespace(
            Stream=lambda non_blocking=False: StubStream(self, "capture", non_blocking),
            get_current_stream=lambda: self.streams[-1],
            get_allocator=lambda: self.allocators[-1],
            using_allocator=using_allocator,
            MemoryAsyncPool=type("MemoryAsyncPool", (), {}),
            malloc_async=object(),
            Event=lambda disable_timing=False: StubEvent(next(events)),
            runtime=SimpleNamespace(streamCaptureModeRelaxed=2, CUDARuntimeError=StubCUDAError),
        )

    def pool_malloc(self, size: int) -> tuple:
        block = ("block", size, self.streams[-1].name)
        self.log.append(("malloc", size, self.streams[-1].name))
        return block

    def allocate(self, size: int) -> tuple:
        """What CuPy does for a new array: ask the current allocator."""
        return self.cuda.get_allocator()(size)


@pytest.fixture
def stub_cuda():
    stub = Stub()
    b = CupyBackend.__new__(CupyBackend)  # no GPU: the backend's state, set by hand
    b._cupy, b._device, b.device, b.index = stub, contextlib.nullcontext(), "cuda:0", 0
    b.supports_graphs, b._graph_stream = True, None
    b._index_checks = DeviceIndexChecks()
    return b, stub


def test_capture_runs_on_a_dedicated_stream_and_keeps_its_allocations(stub_cuda) -> None:
    b, stub = stub_cuda
    seen = {}

    def fn() -> None:
        seen["stream"] = stub.cuda.get_current_stream().name
        stub.allocate(256)                       # a temporary: freed by fn, kept by the graph
        stub.allocate(64)

    g = b.capture_graph(fn)
    assert seen["stream"] == "capture" and b._graph_stream.non_blocking
    assert stub.log == [("begin_capture", "capture", 2), ("malloc", 256, "capture"),
                        ("malloc", 64, "capture"), ("end_capture", "capture")]
    assert g.allocated_bytes == 320 and len(g._blocks) == 2
    assert stub.streams[-1].name == "null" and stub.allocators == [stub.pool_malloc]
    g2 = b.capture_graph(lambda: None)
    assert g2._stream is g._stream                # one capture stream per device


def test_a_launch_is_ordered_against_the_current_stream_by_events(stub_cuda) -> None:
    b, stub = stub_cuda
    g = b.capture_graph(lambda: None)
    stub.log.clear()
    g.launch()
    assert stub.log == [("record", "null", "ready"), ("wait_event", "capture", "ready"),
                        ("launch", "capture"), ("record", "capture", "done"),
                        ("wait_event", "null", "done")]
    stub.log.clear()
    with g._stream:                              # launched from the capture stream itself
        g.launch()
    assert stub.log == [("launch", "capture")]


@pytest.mark.parametrize("what", ["to_numpy", "synchronize", "host_copy", "random"])
def test_refused_work_ends_the_capture_and_restores_stream_and_allocator(stub_cuda,
                                                                         what: str) -> None:
    b, stub = stub_cuda
    actions = {"to_numpy": lambda: b.to_numpy(object()), "synchronize": b.synchronize,
               "host_copy": lambda: b.asarray([1.0]),
               "random": lambda: b.normal(0.0, 1.0, (2,), "float32")}
    with pytest.raises(GraphCaptureError, match="inside capture_graph"):
        b.capture_graph(actions[what])
    assert stub.log[-1] == ("end_capture", "capture") and not b._graph_stream.capturing
    assert stub.streams[-1].name == "null" and stub.allocators == [stub.pool_malloc]
    assert not b.is_capturing


def test_cuda_capture_errors_become_graph_capture_errors(stub_cuda) -> None:
    b, _ = stub_cuda

    def illegal() -> None:
        raise StubCUDAError("cudaErrorStreamCaptureUnsupported: operation not permitted when "
                            "stream is capturing")

    def other() -> None:
        raise StubCUDAError("cudaErrorMemoryAllocation: out of memory")

    with pytest.raises(GraphCaptureError, match="run the function once eagerly"):
        b.capture_graph(illegal)
    with pytest.raises(StubCUDAError, match="out of memory"):
        b.capture_graph(other)


def test_the_async_allocator_is_refused_before_capturing(stub_cuda) -> None:
    b, stub = stub_cuda
    stub.allocators.append(stub.cuda.malloc_async)
    with pytest.raises(GraphCaptureError, match="MemoryAsyncPool"):
        b.capture_graph(lambda: None)
    assert stub.log == [] and not b.is_capturing
