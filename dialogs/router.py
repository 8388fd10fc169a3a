from bot.types import Reply
from bot import messages as M


async def run_turn(coach, incoming):
    return [Reply(M.HELP)]
