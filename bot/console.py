"""`skillcoach chat`: the same dialogs in the terminal, on the embedded store."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot import messages as M
from bot import mydata
from bot.server import build_coach
from bot.settings import Settings
from bot.types import Incoming, Reply, numbered_text, plain_text
from dialogs.words import G, global_command

# Leaving the terminal chat. The dialog reads `quit` and `exit` as *cancel* (stop the interview); in the
# terminal, typed alone on a line, they end the chat instead (the answers are kept). `cancel` and `stop`
# keep their dialog meaning.
LEAVE_WORDS = ("quit", "exit", "/quit", "/exit")


def is_leave(text: str) -> bool:
    """`quit` / `exit` alone on a line (any case, trailing `.` or `!` allowed)."""
    return text.strip().lower().rstrip(".! ") in LEAVE_WORDS


def render(reply: Reply) -> str:
    """Plain text for a terminal: choices as numbered lines, *bold* markers dropped."""
    return plain_text(numbered_text(reply))


def save_attachment(reply: Reply, folder: Path) -> str:
    """Write a reply's attachment (the `my data` export) to a new file in `folder` — never over an existing
    one, readable by its owner only — and say where; if that fails, say why and give it in full."""
    name = reply.attachment_name or "skillcoach-data.json"
    stem, suffix = name.rsplit(".", 1) if "." in name else (name, "json")
    content = mydata.as_json(reply.attachment or {})
    try:
        for n in range(1, 1000):
            path = folder / (name if n == 1 else f"{stem}-{n}.{suffix}")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(content)
            return plain_text(M.DATA_FILE_WRITTEN.format(path=path))
        raise FileExistsError(f"{folder / name} and 999 others exist")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return plain_text(M.DATA_FILE_FAILED.format(reason=reason)) + "\n" + content.rstrip("\n")


async def run_console(settings: Settings, *, user: str = "local", stdin=None, stdout=None, folder: Path | None = None) -> int:
    """The chat loop; a `my data` export is written as a file in `folder` (the current directory)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    coach = build_coach(settings)
    await coach.store.open()
    interactive = stdin.isatty()
    last: list[Reply] = []

    def emit(replies: list[Reply]) -> None:
        for reply in replies:
            stdout.write(render(reply) + "\n")
            if reply.attachment is not None:
                stdout.write(save_attachment(reply, folder or Path.cwd()) + "\n")
            if not interactive:
                stdout.write("\n")
        stdout.flush()

    try:
        stdout.write(M.CHAT_OPENING + "\n" + ("" if interactive else "\n"))
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
                stdout.write(M.CHAT_GOODBYE + "\n")
                stdout.flush()
                break
            last = await coach.handle(Incoming("console", user, text=text))
            emit(last)
            if global_command(text) is G.HELP:
                stdout.write(M.CHAT_HELP_HINT + "\n" + ("" if interactive else "\n"))
                stdout.flush()
    finally:
        await coach.store.close()
    return 0
