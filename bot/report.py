"""The team report (being written)."""


def register(coach) -> None:
    pass
