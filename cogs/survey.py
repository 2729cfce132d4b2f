"""The feedback survey in Discord: the wrap-up's "Give feedback" button, its form, and the results command.

Not a cog: the Dialogues cog registers ``FeedbackButton`` (persistent: its custom id carries the dialogue id, so a
press after a restart still reaches the dialogue) and the ``on_feedback_form`` listener (the form's custom id
carries it too), and adds ``survey_results_command`` to its group.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands

from bot import render_survey
from bot.afterlife.buttons import FEEDBACK, custom_id
from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError
from bot.domain.survey import ANSWER_LIMIT
from bot.survey import SurveyForm

from .common import dialogue_autocomplete, guild_id, reply

__all__ = ("FeedbackButton", "FeedbackModal", "on_feedback_form", "survey_results_command")

log = logging.getLogger(__name__)

# Custom ids of the form's inputs: part of the bot's interface (tests fill them in by these names).
RATING_ID = "rating"
QUESTION_IDS = ("answer_1", "answer_2", "answer_3")
FORM_PREFIX = "dialogue:feedback-form:"
_FORM_ID = re.compile(re.escape(FORM_PREFIX) + r"(?P<id>[0-9]+)")


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dialogue:feedback:(?P<id>[0-9]+)"):
    """ "Give feedback" under a wrap-up (``dialogue:feedback:<id>``): opens the anonymous form."""

    def __init__(self, dialogue_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Give feedback", style=discord.ButtonStyle.success, custom_id=custom_id(FEEDBACK, dialogue_id)
            )
        )
        self.dialogue_id = dialogue_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Open the form, or say why the survey takes no answers now."""
        bot: DialogueBot = interaction.client
        try:
            form = await bot.survey.form(self.dialogue_id, interaction.guild_id)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        except Exception as error:
            log.error("Unexpected error opening the survey of dialogue %s", self.dialogue_id, exc_info=error)
            await send_apology(interaction)
            return
        await interaction.response.send_modal(FeedbackModal(form))


class FeedbackModal(discord.ui.Modal):
    """The anonymous form: a 1-5 usefulness rating and up to three written answers, all optional but not all.

    The form is only drawn here. Its answer is taken by ``on_feedback_form`` from the submission itself, not by
    an object kept in memory: so a form opened before a restart is still taken after it, and two members filling
    in the same dialogue's form at once never meet (discord.py keys live modals by custom id alone).
    """

    def __init__(self, form: SurveyForm) -> None:
        super().__init__(title=render_survey.form_title(form.dialogue), custom_id=f"{FORM_PREFIX}{form.dialogue.id}")
        rating: discord.ui.RadioGroup[FeedbackModal] = discord.ui.RadioGroup(
            custom_id=RATING_ID,
            required=False,
            options=[
                discord.RadioGroupOption(label=label, value=str(value)) for value, label in render_survey.RATING_OPTIONS
            ],
        )
        self.add_item(
            discord.ui.Label(
                text=render_survey.RATING_LABEL, description=render_survey.RATING_DESCRIPTION, component=rating
            )
        )
        for number, (question, input_id) in enumerate(zip(form.questions, QUESTION_IDS, strict=False), start=1):
            text, description = render_survey.question_label(number, question)
            field: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
                custom_id=input_id, style=discord.TextStyle.paragraph, required=False, max_length=ANSWER_LIMIT
            )
            self.add_item(discord.ui.Label(text=text, description=description, component=field))
        # Finished before it is sent, so discord.py does not keep it: the listener takes the submission.
        self.stop()


async def on_feedback_form(interaction: discord.Interaction[Any]) -> None:
    """Take a submitted feedback form (``dialogue:feedback-form:<id>``): store it anonymously or say why not."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return
    match = _FORM_ID.fullmatch(str(interaction.data.get("custom_id", "")))
    if match is None:
        return
    dialogue_id = int(match["id"])
    bot: DialogueBot = interaction.client
    values = _submitted(interaction.data.get("components", []))
    # Inputs the form did not have read as empty; the service refuses text for a question it does not ask.
    texts = [values.get(input_id) or "" for input_id in QUESTION_IDS]
    try:
        saved = await bot.survey.submit(
            dialogue_id, interaction.guild_id, interaction.user.id, values.get(RATING_ID), texts
        )
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    except Exception as error:
        log.error("Unexpected error in the feedback form of dialogue %s", dialogue_id, exc_info=error)
        await send_apology(interaction)
        return
    await reply(interaction, render_survey.saved(saved.replaced, saved.deadline))


def _submitted(components: Any) -> dict[str, Any]:
    """Each input's value in a modal submission, by custom id, wherever Discord nests it (labels, rows)."""
    found: dict[str, Any] = {}
    stack = list(components) if isinstance(components, list) else []
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("custom_id"), str) and "value" in node:
            value = node["value"]
            found[node["custom_id"]] = value if isinstance(value, str) else None
        if isinstance(node.get("component"), dict):
            stack.append(node["component"])
        if isinstance(node.get("components"), list):
            stack.extend(node["components"])
    return found


async def _send_results(interaction: discord.Interaction, messages: list[str]) -> None:
    """Send every part ephemerally, each as a follow-up of the deferred answer."""
    mentions = discord.AllowedMentions.none()
    for text in messages:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)


def survey_results_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue survey-results``: the feedback survey's numbers and every written answer, shuffled."""

    @app_commands.command(name="survey-results", description="The anonymous feedback on a closed dialogue")
    @app_commands.describe(dialogue="The dialogue whose feedback to show")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def survey_results(interaction: discord.Interaction, dialogue: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            found = await bot.dialogues.resolve(guild_id(interaction), dialogue)
            summary = await bot.survey.summary(found)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        await _send_results(interaction, render_survey.results_messages(summary))

    return survey_results
