"""`skillcoach chat`: the same dialogs in the terminal, on the embedded store."""

from __future__ import annotations

import asyncio
import json
import re
import sys

from bot.types import Incoming, Reply, numbered_text


_BOLD = re.compile(r"\*([^*\n]+)\*")


def render(reply: Reply) -> str:
    """Plain text for a terminal: choices as numbered lines, *bold* markers dropped."""
    text = _BOLD.sub(r"\1", numbered_text(reply))
    if reply.attachment is not None:
        text += "\n" + json.dumps(reply.attachment, indent=2, ensure_ascii=False, default=str)
    return text


async def run_console(settings, *, user: str = "local", stdin=None, stdout=None) -> int:
    from bot.server import build_coach

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    coach = build_coach(settings)
    await coach.store.open()
    interactive = stdin.isatty()
    last: list[Reply] = []

    def emit(replies: list[Reply]) -> None:
        for reply in replies:
            stdout.write(render(reply) + "\n")
            if not interactive:
                stdout.write("\n")
        stdout.flush()

    try:
        emit(await coach.handle(Incoming("console", user, text="", command="grow")))
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if interactive and text.strip() in ("/quit", "/exit"):
                break
            last = await coach.handle(Incoming("console", user, text=text))
            emit(last)
    finally:
        await coach.store.close()
    return 0
