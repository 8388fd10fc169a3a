"""Every user-facing string in one place (ready for translation)."""

TRY_AGAIN = "I can't reach my notes right now. Please try again in a moment — nothing you told me is lost."
HELP = "I'm skillcoach. Say *start* to begin."
