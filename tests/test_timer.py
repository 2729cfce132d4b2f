"""The durable timer's drain over a small table of due instants: each row once, stuck rows postponed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.timer import SpinGuard, drain

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)


class Table:
    """Rows and their due instants, read as ``db`` would: earliest first, at most ``limit``."""

    def __init__(self, due: dict[int, datetime | None]) -> None:
        self.due_at = due
        self.handled: list[int] = []

    async def due(self, now: datetime, limit: int) -> list[int]:
        rows = sorted((when, row) for row, when in self.due_at.items() if when is not None and when <= now)
        return [row for _, row in rows[:limit]]

    async def postpone(self, row: int, when: datetime) -> None:
        self.due_at[row] = when


async def test_every_due_row_is_handled_once_in_batches_and_later_rows_wait() -> None:
    table = Table({row: NOW - timedelta(minutes=row) for row in range(1, 8)} | {99: NOW + timedelta(seconds=1)})

    async def handle(row: int) -> None:
        table.handled.append(row)
        table.due_at[row] = None  # done: never due again

    count = await drain(
        NOW, due=table.due, handle=handle, postpone=table.postpone, guard=SpinGuard(), what="Row", batch=3
    )
    assert count == 7
    assert table.handled == [7, 6, 5, 4, 3, 2, 1]  # earliest first
    assert table.due_at[99] == NOW + timedelta(seconds=1)


async def test_a_row_that_stays_due_is_postponed_with_back_off_not_handled_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = Table({1: NOW, 2: NOW})
    guard = SpinGuard(first=timedelta(minutes=5), most=timedelta(minutes=15))

    async def handle(row: int) -> None:
        table.handled.append(row)
        if row == 2:
            table.due_at[row] = NOW + timedelta(days=1)  # row 1 forgets to move its due instant

    async def run(now: datetime) -> None:
        await drain(now, due=table.due, handle=handle, postpone=table.postpone, guard=guard, what="Row")

    await run(NOW)
    assert table.handled == [1, 2]
    assert table.due_at[1] == NOW + timedelta(minutes=5)
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

    await drain(NOW, due=table.due, handle=handle, postpone=table.postpone, guard=SpinGuard(), what="Row")
    assert table.handled == [1, 2, 3]
    assert table.due_at == {1: None, 2: NOW + timedelta(minutes=5), 3: None}
    assert "Row 2: handling it failed" in caplog.text


async def test_a_stopping_timer_ends_the_drain_before_the_next_row() -> None:
    table = Table({1: NOW, 2: NOW, 3: NOW})
    stopping = False

    async def handle(row: int) -> None:
        nonlocal stopping
        table.handled.append(row)
        table.due_at[row] = None
        stopping = True  # shutting down while the first row runs

    await drain(
        NOW,
        due=table.due,
        handle=handle,
        postpone=table.postpone,
        guard=SpinGuard(),
        what="Row",
        stopping=lambda: stopping,
    )
    assert table.handled == [1]
    assert table.due_at[2] == table.due_at[3] == NOW  # still owed, in the record


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_a_slow_row_holds_one_slot_not_its_whole_batch(concurrency: int) -> None:
    table = Table({1: NOW, 2: NOW, 3: NOW})
    released = asyncio.Event()

    async def handle(row: int) -> None:
        table.handled.append(row)
        table.due_at[row] = None
        if row == 1:
            await released.wait()  # slow until a later row has been handled
        else:
            released.set()

    run = drain(
        NOW,
        due=table.due,
        handle=handle,
        postpone=table.postpone,
        guard=SpinGuard(),
        what="Row",
        concurrency=concurrency,
    )
    if concurrency == 1:  # one at a time, in due order: the slow row holds everything up
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(run, 0.2)
        assert table.handled == [1]
    else:
        assert await asyncio.wait_for(run, 5) == 3
        assert sorted(table.handled) == [1, 2, 3]
