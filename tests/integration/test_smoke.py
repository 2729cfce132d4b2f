from tests.conftest import World


async def test_smoke(world: World) -> None:
    shown = await world.fac.slash(world.general, "dialogue create", timezone="Europe/Zurich")
    assert shown.modal is not None
    result = await world.fac.submit_modal(
        shown,
        {
            "title": "Defenders @everyone",
            "framing": "Why engage?",
            "questions": "Q one?\nQ two?",
            "opens": "in 1h",
            "duration": "2d",
        },
    )
    print(result.followups[0].content if result.followups else result.response)
    await world.env.advance_time(3600)
    ch = world.guild.channels
    print(list(ch))
    channel = ch["defenders-everyone"]
    print([t.name for t in channel.threads])
    print(channel.pinned_messages()[0].content)
    t = channel.threads[0]
    await world.alice.send(t, "my reply")
    await world.bob.send(channel, "A new topic\nmore text")
    print([t.name for t in channel.threads])
    await world.env.advance_time(2 * 86400)
    print(channel.last_message.content)
