"""The summary's texts: the link the wrap-up gains."""

from __future__ import annotations

from bot.render_summary import with_summary_link


def test_the_wrapup_gains_one_summary_link_above_its_marker_and_a_new_one_replaces_it() -> None:
    wrapup = "# Thank you\nSome numbers.\n-# dialogue #4 · wrap-up part 1"
    linked = with_summary_link(wrapup, "https://discord.com/channels/1/2/3")
    assert linked == (
        "# Thank you\nSome numbers.\n\n📌 **The summary is posted:** https://discord.com/channels/1/2/3\n"
        "-# dialogue #4 · wrap-up part 1"
    )
    assert with_summary_link(linked, "https://discord.com/channels/1/2/3") is None
    relinked = with_summary_link(linked, "https://discord.com/channels/1/2/9")
    assert relinked is not None and relinked.count("📌") == 1 and relinked.endswith("\n-# dialogue #4 · wrap-up part 1")
    assert "channels/1/2/9" in relinked
