"""Task records made fast from one template (populating every project's stores)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from harness import ID_LENGTH


class PickleTemplate:
    """Pickled task records made fast from one template.

    Pickling a peer's task state is slow (pydantic models, ~200 us each), and the records
    of populated tasks differ only in their id and next run time. So the adapter pickles
    one template task whose id is ``SENTINEL_ID`` and whose next run time is
    ``SENTINEL_TIME``; ``make`` splices other values of the same encoded length into those
    bytes, which gives exactly the bytes ``pickle.dumps`` gives for that task (ids all have
    ``ID_LENGTH`` characters; an aware datetime pickles as 10 bytes of state). The due case
    reads the records back through the store, so a wrong splice shows up as an error.

    ``time_bytes`` encodes a run time as the record does: pickled datetime state for the
    peers; our JSON records write ISO-8601 text (see ``ours.iso_bytes``).
    """

    SENTINEL_ID = "Q" * ID_LENGTH
    SENTINEL_TIME = datetime(2199, 12, 30, 23, 58, 57, 123456, tzinfo=UTC)

    def __init__(
        self, pickled: bytes, time_bytes: Callable[[datetime], bytes] | None = None
    ) -> None:
        self.time_bytes = time_bytes or _datetime_state
        id_bytes = self.SENTINEL_ID.encode()
        time_bytes = self.time_bytes(self.SENTINEL_TIME)
        self.time_length = len(time_bytes)
        for needle in (id_bytes, time_bytes):
            if pickled.count(needle) != 1:
                raise ValueError(f"template pickle holds {needle!r} {pickled.count(needle)} times")
        spots = sorted([(pickled.index(id_bytes), "id"), (pickled.index(time_bytes), "time")])
        self.order = [kind for _, kind in spots]
        (first, _), (second, _) = spots
        first_len = len(id_bytes) if self.order[0] == "id" else len(time_bytes)
        second_len = len(id_bytes) if self.order[1] == "id" else len(time_bytes)
        self.parts = (
            pickled[:first],
            pickled[first + first_len : second],
            pickled[second + second_len :],
        )

    def make(self, task_id: str, when: datetime) -> bytes:
        values = {"id": task_id.encode(), "time": self.time_bytes(when.astimezone(UTC))}
        if len(values["id"]) != ID_LENGTH:
            raise ValueError(f"task id {task_id!r} is not {ID_LENGTH} bytes long")
        if len(values["time"]) != self.time_length:
            raise ValueError(f"{when} does not encode to {self.time_length} bytes")
        head, middle, tail = self.parts
        return b"".join((head, values[self.order[0]], middle, values[self.order[1]], tail))


def _datetime_state(moment: datetime) -> bytes:
    state = moment.__reduce__()[1][0]
    assert isinstance(state, bytes)
    return state


# ---------------------------------------------------------------------------- cases
