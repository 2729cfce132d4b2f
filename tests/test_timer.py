"""The durable timer's dispatcher over a small table of due instants: each row once, stuck rows postponed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta

import pytest

from bot.timer import Dispatcher, SpinGuard

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


class Table:
    """Rows and their due instants, read as ``db`` would: earliest first, at most ``limit``, some left out."""

    def __init__(self, due: dict[int, datetime | None]) -> None:
        self.due_at = due
        self.handled: list[int] = []
        self.pokes: list[datetime] = []  # what the timer is told when a row is no longer being handled

    async def due(self, now: datetime, limit: int, excluding: Collection[int]) -> list[int]:
        due = [(when, row) for row, when in self.due_at.items() if when is not None and when <= now]
        rows = sorted((when, row) for when, row in due if row not in excluding)
        return [row for _, row in rows[:limit]]

    async def when(self, row: int) -> datetime | None:
        return self.due_at[row]

    async def postpone(self, row: int, when: datetime) -> None:
        self.due_at[row] = when

    def dispatcher(
        self, handle: Callable[[int], Awaitable[None]], concurrency: int = 1, guard: SpinGuard | None = None
    ) -> Dispatcher:
        return Dispatcher(
            due=self.due,
            due_at=self.when,
            handle=handle,
            postpone=self.postpone,
            poke=self.pokes.append,
            what="Row",
            concurrency=concurrency,
            guard=guard,
        )


async def test_every_due_row_is_handled_once_earliest_first_and_later_rows_wait() -> None:
    table = Table({row: NOW - timedelta(minutes=row) for row in range(1, 8)} | {99: NOW + timedelta(seconds=1)})

    async def handle(row: int) -> None:
        table.handled.append(row)
        table.due_at[row] = None  # done: never due again

    dispatcher = table.dispatcher(handle)
    assert await dispatcher.dispatch(NOW) == 7
    await dispatcher.wait()
    assert table.handled == [7, 6, 5, 4, 3, 2, 1]  # earliest first
    assert table.due_at[99] == NOW + timedelta(seconds=1)


async def test_a_row_that_stays_due_is_postponed_with_back_off_not_handled_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = Table({1: NOW, 2: NOW})

    async def handle(row: int) -> None:
        table.handled.append(row)
        if row == 2:
            table.due_at[row] = NOW + timedelta(days=1)  # row 1 forgets to move its due instant

    dispatcher = table.dispatcher(handle, guard=SpinGuard(first=timedelta(minutes=5), most=timedelta(minutes=15)))

    async def run(now: datetime) -> None:
        await dispatcher.dispatch(now)
        await dispatcher.wait()

    await run(NOW)
    assert table.handled == [1, 2]
    assert table.due_at[1] == NOW + timedelta(minutes=5)
    assert sorted(table.pokes) == [NOW + timedelta(minutes=5), NOW + timedelta(days=1)]
    assert "Row 1 is still due after it was handled" in caplog.text
    # Still stuck at its next wake: twice as long, then capped.
    await run(NOW + timedelta(minutes=5))
    assert table.due_at[1] == NOW + timedelta(minutes=15)
    await run(NOW + timedelta(minutes=15))
    assert table.due_at[1] == NOW + timedelta(minutes=30)
    assert table.handled == [1, 2, 1, 1]


async def test_an_error_in_one_row_never_stops_the_others(caplog: pytest.LogCaptureFixture) -> None:
    table = Table({1: NOW, 2: NOW, 3: NOW})

    async def handle(row: int) -> None:
        table.handled.append(row)
        if row == 2:
            raise RuntimeError("database disk image is malformed")
        table.due_at[row] = None

    dispatcher = table.dispatcher(handle)
    await dispatcher.dispatch(NOW)
    await dispatcher.wait()
    assert table.handled == [1, 2, 3]
    assert table.due_at == {1: None, 2: NOW + timedelta(minutes=5), 3: None}
    assert table.pokes == [NOW + timedelta(minutes=5)]  # the timer, which left row 2 out, wakes for it
    assert "Row 2: handling it failed" in caplog.text


async def test_a_stopping_timer_starts_no_further_row() -> None:
    table = Table({1: NOW, 2: NOW, 3: NOW})
    stopping = False

    async def handle(row: int) -> None:
        nonlocal stopping
        table.handled.append(row)
        table.due_at[row] = None
        stopping = True  # shutting down while the first row runs

    dispatcher = table.dispatcher(handle)
    await dispatcher.dispatch(NOW, lambda: stopping)
    await dispatcher.wait()
    assert table.handled == [1]
    assert table.due_at[2] == table.due_at[3] == NOW  # still owed, in the record


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_a_slow_row_holds_one_slot_and_a_row_due_later_still_starts(concurrency: int) -> None:
    later = NOW + timedelta(minutes=10)
    table = Table({1: NOW, 2: later})
    released = asyncio.Event()

    async def handle(row: int) -> None:
        table.handled.append(row)
        table.due_at[row] = None
        if row == 1:
            await released.wait()  # slow until the row due later has been handled
        else:
            released.set()

    dispatcher = table.dispatcher(handle, concurrency)
    assert await dispatcher.dispatch(NOW) == 1  # returns at once: the slow row runs in a task of its own
    await asyncio.sleep(0)
    assert dispatcher.in_flight == {1}
    if concurrency == 1:  # its one slot is taken: the later row waits for the slow one
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(dispatcher.dispatch(later), 0.2)
        assert table.handled == [1]
        released.set()
        await dispatcher.wait()
    else:
        assert await asyncio.wait_for(dispatcher.dispatch(later), 5) == 1
        await asyncio.wait_for(dispatcher.wait(), 5)
        assert table.handled == [1, 2]
        assert dispatcher.in_flight == frozenset()
