"""`skillcoach chat`: the same dialogs in the terminal, on the embedded store."""

from __future__ import annotations

import asyncio
import json
import sys

from bot.types import Incoming, Reply, numbered_text, plain_text
from dialogs.words import G, global_command

# Leaving the terminal chat. The dialog reads `quit` and `exit` as *cancel* (stop the interview); in the
# terminal, typed alone on a line, they end the chat instead (the answers are kept). `cancel` and `stop`
# keep their dialog meaning.
LEAVE_WORDS = ("quit", "exit", "/quit", "/exit")
OPENING = "skillcoach chat — type quit or exit (or press Ctrl-D) to leave."
HELP_HINT = "In this terminal: type quit or exit (or press Ctrl-D) to leave the chat."
GOODBYE = "Goodbye — your answers are kept; run skillcoach chat to continue."


def is_leave(text: str) -> bool:
    """`quit` / `exit` alone on a line (any case, trailing `.` or `!` allowed)."""
    return text.strip().lower().rstrip(".! ") in LEAVE_WORDS


def render(reply: Reply) -> str:
    """Plain text for a terminal: choices as numbered lines, *bold* markers dropped."""
    text = plain_text(numbered_text(reply))
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
        stdout.write(OPENING + "\n" + ("" if interactive else "\n"))
        emit(await coach.handle(Incoming("console", user, text="", command="grow")))
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:  # Ctrl-D / end of input: leave quietly
                if interactive:
                    stdout.write("\n")  # end the prompt's line
                    stdout.flush()
                break
            text = line.rstrip("\n")
            if is_leave(text):
                stdout.write(GOODBYE + "\n")
                stdout.flush()
                break
            last = await coach.handle(Incoming("console", user, text=text))
            emit(last)
            if global_command(text) is G.HELP:
                stdout.write(HELP_HINT + "\n" + ("" if interactive else "\n"))
                stdout.flush()
    finally:
        await coach.store.close()
    return 0
