"""The queue against a reference model, over random sequences of add/get/done (one thread)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kgen.workqueue import Queue

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 5)),
        st.tuples(st.just("get"), st.just(0)),
        st.tuples(st.just("done"), st.integers(0, 5)),
    ),
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(ops)
def test_queue_matches_the_model(sequence: list[tuple[str, int]]) -> None:
    q: Queue[int] = Queue()
    order: list[int] = []  # the model: FIFO of waiting items
    dirty: set[int] = set()
    processing: set[int] = set()
    for op, item in sequence:
        if op == "add":
            q.add(item)
            if item not in dirty:
                dirty.add(item)
                if item not in processing:
                    order.append(item)
        elif op == "get" and order:
            expected = order.pop(0)
            assert q.get() == expected
            processing.add(expected)
            dirty.discard(expected)
        elif op == "done" and item in processing:
            q.done(item)
            processing.discard(item)
            if item in dirty:
                order.append(item)
        assert len(q) == len(order)
        assert not set(order) & processing  # never handed to two workers at once
    q.shut_down()
