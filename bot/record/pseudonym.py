"""Stable per-dialogue pseudonyms, and a scrubber that takes names, mentions, ids and Discord links out of text.

Pure: standard library only, no I/O. The mapping from people to pseudonyms lives only inside a
``Pseudonymiser``; nothing here writes it out, logs it or exposes it (its ``repr`` says only how many people
it knows), so an export can use it without the key ever leaving memory.

Pseudonyms. Participants are "Participant 1", "Participant 2", ... numbered in the order the people are
given (callers pass them in order of first appearance); leaders are "Leader 1", ... the same way. A dialogue
with one facilitator calls them "Facilitator"; with several, "Facilitator 1", "Facilitator 2", ... A person
listed twice keeps their highest role (facilitator over leader over participant) and their first position.
Anyone else is "someone".

What ``scrub`` replaces, in one pass (a replacement is never scanned again, so a member called "Participant"
or "someone" cannot garble another replacement):

- user mentions ``<@id>`` and ``<@!id>``: the person's pseudonym, or "someone" for anybody not in the dialogue;
- role mentions ``<@&id>``: "@" and the role's name (``roles``), else "@unknown-role";
- channel mentions ``<#id>``: "#" and the channel's name (``channels``), else "#unknown";
  role and channel names are scrubbed of people's names too;
- slash-command mentions ``</name:id>``: "/name"; custom emoji ``<:name:id>``: ":name:";
- every link to a Discord host (discord.com, discordapp.com, their canary/ptb/www/cdn/media subdomains,
  discord.gg, discordapp.net, discord.media): message and channel links, profiles, invites, avatars and other
  CDN files all become "[link removed]";
- an e-mail address: "[email removed]" (it names its owner as surely as a mention);
- a bare snowflake (17 to 20 digits standing alone): a known person's pseudonym, else "[id removed]";
- names: every display name, username and alias, as ``@name`` or plain text, whole words only (a name inside
  another word stays: "Ann" in "Annual"), case-insensitive, longest first, with Unicode-aware boundaries
  (letters, marks and digits of every script count as word characters). Whitespace inside a name matches any
  run of whitespace ("Ann  Lee").

Names that are also common words ("Hope", "Will", "May"). Policy: a person's full display name, username and
aliases are replaced wherever they stand as a word, in any case, even when that word is ordinary ("I will
come" becomes "I Participant 2 come" when a member is called Will). We accept that over-redaction: an export
may be published about people at risk, and a readable sentence is not worth a name. The single words of a
multi-word display name ("Ann" and "Lee" of "Ann Lee") are weaker signals and often ordinary words, so they
are replaced only when written with a capital initial ("Lee said", "LEE"), and only when they are at least
two characters long; a word that is part of two people's names, or the full name of two people, becomes
"someone". Names of a single character are matched only in their ``@`` and mention forms.

Before matching, the text is put in Unicode NFC form and invisible characters that could split a name
(zero-width space, word joiner, soft hyphen, BOM) are removed. Not handled: look-alike letters from other
scripts (a Cyrillic "А" in "Аnn"), names of people who are not in the dialogue, and names in images.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ("Person", "Pseudonymiser", "Role")

SOMEONE = "someone"
LINK_REMOVED = "[link removed]"
ID_REMOVED = "[id removed]"
EMAIL_REMOVED = "[email removed]"
UNKNOWN_ROLE = "@unknown-role"
UNKNOWN_CHANNEL = "#unknown"

_EMPTY: Mapping[int, str] = {}

# Invisible characters that could be slipped inside a name to dodge the match; none carries meaning in prose.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
# Replacements are parked as private-use placeholders until the end of the pass, so no later rule sees them.
_OPEN, _CLOSE, _DIGIT0 = "\ue000", "\ue001", 0xE100
_PLACEHOLDER_CHARS = dict.fromkeys(range(0xE000, 0xE200))

_DISCORD_HOST = r"(?:[a-z0-9-]+\.)*(?:discord(?:app)?\.(?:com|net|gg|media)|discordcdn\.com)"
# A path ends before closing punctuation, so "(see https://discord.com/x)." keeps its ")" and ".".
_PATH = r"(?:[/?#](?:[^\s<>()]*[^\s<>().,;:!?'\"*_~|`])?)"
_LINK = re.compile(
    rf"<?(?:https?://{_DISCORD_HOST}{_PATH}?|(?<![\w.@/]){_DISCORD_HOST}{_PATH})>?",
    re.IGNORECASE,
)
_MENTION = re.compile(r"<(?:@!?(?P<user>\d+)|@&(?P<role>\d+)|#(?P<channel>\d+)|/(?P<command>[^:<>]+):\d+)>")
_EMOJI = re.compile(r"<a?:(?P<emoji>\w+):\d+>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SNOWFLAKE = re.compile(r"(?<!\d)\d{17,20}(?!\d)")


class Role(enum.StrEnum):
    """The part someone plays in a dialogue, which their pseudonym keeps."""

    PARTICIPANT = "participant"
    LEADER = "leader"
    FACILITATOR = "facilitator"


_RANK = {Role.PARTICIPANT: 0, Role.LEADER: 1, Role.FACILITATOR: 2}


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in a dialogue: their Discord id, the names others see and type, and their role."""

    user_id: int
    display_name: str
    username: str
    role: Role | str = Role.PARTICIPANT
    # Any other name they are known by (a global name besides the server nickname, a former name).
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Accept the role as its plain string value; refuse an unknown role."""
        object.__setattr__(self, "role", Role(self.role))


def _wordish(char: str) -> bool:
    """Whether a character belongs to a word: a letter, mark or digit of any script, an underscore, a joiner."""
    return char == "_" or char in "\u200c\u200d" or unicodedata.category(char)[0] in "LMN"


def _clean(text: str) -> str:
    """Normalise and drop invisible characters and anything that could pose as a placeholder."""
    return unicodedata.normalize("NFC", text).translate(_INVISIBLE).translate(_PLACEHOLDER_CHARS)


def _name_pattern(name: str) -> str:
    """A regular expression for one name: literal, any run of whitespace where the name has whitespace."""
    return r"\s+".join(re.escape(part) for part in name.split())


@dataclass(frozen=True, slots=True)
class _Name:
    """One name to look for, what it becomes, and whether only its capitalised forms count."""

    text: str
    replacement: str
    capitalised_only: bool
    pattern: re.Pattern[str]


class Pseudonymiser:
    """Gives each person of one dialogue a stable pseudonym and scrubs identities out of text."""

    __slots__ = ("_any_name", "_by_key", "_names", "_pseudonyms")

    def __init__(self, people: Iterable[Person]) -> None:
        """Number everyone by role in the order given."""
        merged: dict[int, Person] = {}
        for person in people:
            known = merged.get(person.user_id)
            if known is None:
                merged[person.user_id] = person
            else:
                role = max(known.role, person.role, key=lambda r: _RANK[Role(r)])
                aliases = (*known.aliases, person.display_name, person.username, *person.aliases)
                merged[person.user_id] = Person(known.user_id, known.display_name, known.username, role, aliases)
        facilitators = sum(1 for p in merged.values() if p.role == Role.FACILITATOR)
        counters = dict.fromkeys(Role, 0)
        self._pseudonyms: dict[int, str] = {}
        for person in merged.values():
            role = Role(person.role)
            counters[role] += 1
            if role == Role.FACILITATOR and facilitators == 1:
                self._pseudonyms[person.user_id] = "Facilitator"
            else:
                self._pseudonyms[person.user_id] = f"{role.value.capitalize()} {counters[role]}"
        self._names = self._index(merged.values())
        # One pattern finds the longest name at each place (a trie: its cost follows the text, not the number of
        # names); that match and then its shorter prefixes are looked up by key and held to the word boundaries.
        self._by_key = {_key(name.text): name for name in self._names}
        self._any_name: re.Pattern[str] | None = (
            re.compile(_trie_pattern(n.text for n in self._names), re.IGNORECASE) if self._names else None
        )

    def __repr__(self) -> str:
        """Say how many people it knows, never who they are."""
        return f"<Pseudonymiser of {len(self._pseudonyms)} people>"

    def __contains__(self, user_id: object) -> bool:
        """Whether this person is in the dialogue."""
        return user_id in self._pseudonyms

    def name(self, user_id: int) -> str:
        """The pseudonym of this person, or "someone" for anybody not in the dialogue."""
        return self._pseudonyms.get(user_id, SOMEONE)

    def scrub(self, text: str, *, channels: Mapping[int, str] = _EMPTY, roles: Mapping[int, str] = _EMPTY) -> str:
        """Replace names, mentions, ids and Discord links in text (see the module's notes for the rules)."""
        parked: list[str] = []

        def park(replacement: str) -> str:
            parked.append(replacement)
            return _placeholder(len(parked) - 1)

        text = _clean(text)
        text = _LINK.sub(lambda m: park(LINK_REMOVED), text)
        text = _MENTION.sub(lambda m: park(self._mention(m, channels, roles)), text)
        text = _EMOJI.sub(lambda m: park(f":{m['emoji']}:"), text)
        text = _EMAIL.sub(lambda m: park(EMAIL_REMOVED), text)
        text = _SNOWFLAKE.sub(lambda m: park(self._pseudonyms.get(int(m[0]), ID_REMOVED)), text)
        text = self._replace_names(text, park)
        return _unpark(text, parked)

    def _mention(self, match: re.Match[str], channels: Mapping[int, str], roles: Mapping[int, str]) -> str:
        """What one ``<...>`` mention becomes."""
        if match["user"]:
            return self.name(int(match["user"]))
        if match["role"]:
            role = roles.get(int(match["role"]))
            return "@" + self._names_only(role) if role else UNKNOWN_ROLE
        if match["channel"]:
            channel = channels.get(int(match["channel"]))
            return "#" + self._names_only(channel) if channel else UNKNOWN_CHANNEL
        return "/" + match["command"]

    def _names_only(self, text: str) -> str:
        """Scrub only people's names out of a role's or channel's name."""
        parked: list[str] = []

        def park(replacement: str) -> str:
            parked.append(replacement)
            return _placeholder(len(parked) - 1)

        return _unpark(self._replace_names(_clean(text), park), parked)

    def _replace_names(self, text: str, park: Callable[[str], str]) -> str:
        """Replace every whole-word occurrence of a known name, longest first, with its pseudonym."""
        if self._any_name is None:
            return text
        out: list[str] = []
        done = pos = 0
        while (found := self._any_name.search(text, pos)) is not None:
            start = found.start()
            hit = self._match_at(text, start, found.end())
            if hit is None:
                pos = start + 1
                continue
            name, end = hit
            # "@ann" loses its "@" too, unless the "@" is inside a word.
            if start and text[start - 1] == "@" and (start < 2 or not _wordish(text[start - 2])):
                start -= 1
            out += [text[done:start], park(name.replacement)]
            done = pos = end
        out.append(text[done:])
        return "".join(out)

    def _match_at(self, text: str, start: int, longest: int) -> tuple[_Name, int] | None:
        """The longest known name that stands as a whole word at ``start`` (ending by ``longest``), and its end."""
        for cut in range(longest, start, -1):
            name = self._by_key.get(_key(text[start:cut]))
            if name is None or (match := name.pattern.match(text, start)) is None or match.end() != cut:
                continue
            end = cut
            if _wordish(name.text[0]) and start and _wordish(text[start - 1]):
                continue
            if _wordish(name.text[-1]) and end < len(text) and _wordish(text[end]):
                continue
            if name.capitalised_only and not match[0][0].isupper():
                continue
            return name, end
        return None

    def _index(self, people: Iterable[Person]) -> list[_Name]:
        """Every name to look for, longest first; a name shared by two people becomes "someone"."""
        full: dict[str, tuple[str, set[int]]] = {}
        parts: dict[str, tuple[str, set[int]]] = {}
        for person in people:
            for given in (person.display_name, person.username, *person.aliases):
                name = " ".join(_clean(given).split())
                if len(name) < 2:
                    continue
                full.setdefault(_key(name), (name, set()))[1].add(person.user_id)
                for word in name.split() if len(name.split()) > 1 else ():
                    if len(word) >= 2 and any(_wordish(c) for c in word):
                        parts.setdefault(_key(word), (word, set()))[1].add(person.user_id)
        names: list[_Name] = []
        for table, capitalised_only in ((full, False), (parts, True)):
            for key, (text, owners) in table.items():
                if capitalised_only and key in full:
                    continue
                replacement = self._pseudonyms[next(iter(owners))] if len(owners) == 1 else SOMEONE
                pattern = re.compile(_name_pattern(text), re.IGNORECASE)
                names.append(_Name(text, replacement, capitalised_only, pattern))
        # Longest first, so "Ann Lee" wins over "Ann"; full names before parts of the same length.
        names.sort(key=lambda n: (-len(n.text), n.capitalised_only))
        return names


def _key(name: str) -> str:
    """How a name is looked up: case folded, whitespace runs as one space."""
    return " ".join(name.split()).casefold()


_WHITESPACE = "\x00"  # a trie key standing for a run of whitespace inside a name


def _trie_pattern(names: Iterable[str]) -> str:
    """One regular expression matching any of ``names`` (case-insensitively), built as a trie of their letters."""
    trie: dict[str, dict[str, Any]] = {}
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(_WHITESPACE if char.isspace() else char.lower(), {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict[str, dict[str, Any]]) -> str:
    """The regular expression of one trie node: its branches, optional where a name may end here."""
    branches = [
        (r"\s+" if key == _WHITESPACE else re.escape(key)) + _trie_regex(child)
        for key, child in sorted(node.items())
        if key
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _placeholder(index: int) -> str:
    """A private-use token for the index-th parked replacement: no name, digit or word boundary can match it."""
    digits = ""
    while True:
        index, digit = divmod(index, 256)
        digits = chr(_DIGIT0 + digit) + digits
        if not index:
            break
    return _OPEN + digits + _CLOSE


_PARKED = re.compile(f"{_OPEN}([\ue100-\ue1ff]+){_CLOSE}")


def _unpark(text: str, parked: list[str]) -> str:
    """Put the parked replacements in place of their placeholders."""

    def value(match: re.Match[str]) -> str:
        index = 0
        for char in match[1]:
            index = index * 256 + ord(char) - _DIGIT0
        return parked[index]

    return _PARKED.sub(value, text)
