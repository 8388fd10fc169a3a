"""Mentor, peer-coaching and shadowing introductions (being written)."""


def register(coach) -> None:
    pass


async def expiry_task(coach) -> None:
    return None
