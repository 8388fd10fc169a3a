"""A test driver that talks to `Coach.handle` the way an adapter does."""

from __future__ import annotations

from bot.core import Coach
from bot.types import Incoming, Reply


class Chat:
    def __init__(self, coach: Coach, user: str = "U1", platform: str = "console", email: str | None = None):
        self.coach = coach
        self.user = user
        self.platform = platform
        self.email = email
        self.last: list[Reply] = []
        self.transcript: list[tuple[str, list[Reply]]] = []

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user}"

    async def send(self, text: str = "", **kw) -> list[Reply]:
        inc = Incoming(self.platform, self.user, text=text, email=self.email, **kw)
        self.last = await self.coach.handle(inc)
        self.transcript.append((text or repr(kw), self.last))
        assert self.last, "every message gets an answer"
        return self.last

    def question(self) -> Reply | None:
        """The open question of the last answer (the last reply with choices or none)."""
        for reply in reversed(self.last):
            if reply.choices:
                return reply
        return None

    async def press(self, label_or_value: str) -> list[Reply]:
        """Press a choice of the open question by label (substring, case-insensitive) or value."""
        q = self.question()
        assert q is not None, f"no open question in {self.texts()}"
        want = label_or_value.lower()
        for c in q.choices:
            if c.value == label_or_value or want in c.label.lower():
                return await self.send(choice=c.value, prompt_id=q.prompt_id)
        raise AssertionError(f"no choice {label_or_value!r} in {[c.label for c in q.choices]}")

    async def pick(self, values: list[str]) -> list[Reply]:
        """Submit a multi-select of the open question with these values or labels."""
        q = self.question()
        assert q is not None and q.multi, f"no open multi-select in {self.texts()}"
        chosen = []
        for v in values:
            for c in q.choices:
                if c.value == v or v.lower() in c.label.lower():
                    chosen.append(c.value)
                    break
            else:
                raise AssertionError(f"no choice {v!r} in {[c.label for c in q.choices]}")
        return await self.send(choices=tuple(chosen), prompt_id=q.prompt_id)

    def texts(self) -> str:
        from bot.types import numbered_text

        return "\n---\n".join(numbered_text(r) for r in self.last)

    def plan(self):
        for reply in self.last:
            if reply.card is not None and reply.card.kind == "plan":
                return reply.card
        return None
