"""The Teams adapter's own user-facing strings (the core's are in `bot/messages.py`)."""

WELCOME_TITLE = "Hi, I'm skillcoach"
WELCOME = (
    "I help you grow: I'll ask a few questions about your role, your skills and where you want to go, "
    "then suggest a plan — skills to build, ways to learn, and people here who can help "
    "(mentors, peer coaches, colleagues you can shadow).\n\n"
    "Say **grow** to begin, or **help** to see everything I can do."
)
WELCOME_BUTTON = "Start my plan"
TEAM_WELCOME = (
    "Hi everyone, I'm skillcoach, a career-growth coach. Mention me with **grow** to get a personal plan "
    "— I'll answer you in a private chat, never here."
)
ANSWERED_PRIVATELY = "I've answered you in our private chat."
CANT_REACH_PRIVATELY = (
    "I couldn't open a private chat with you. Please install skillcoach for yourself (Apps → skillcoach → Add) "
    "and say **grow** there."
)
SUBMIT = "Submit"
DONE = "Done"
PICK_ONE = "Please pick one."
LABEL_ONE = "Your answer"
LABEL_MANY = "Your answers (pick any)"
CHOSEN = "✓ {label}"
CHOSEN_NONE = "✓ (none)"
MORE_CONTINUED = "(continued)"
FILE_DESCRIPTION = "Everything skillcoach keeps about you (JSON)."
FILE_DECLINED = "Okay, no file. Say **my data** again whenever you want it."
FILE_FAILED = "I couldn't upload the file just now. Say **my data** to try again — nothing is lost."
FILE_SENT_ALREADY = "That file was sent already."
FILE_DECLINED_ALREADY = "You declined that file. Say **my data** again whenever you want it."
FILE_UNDERWAY = "That file is on its way."
FILE_CARD_SENT = "Sent: **{name}**"                       # what the answered consent card becomes
FILE_CARD_DECLINED = "Not sent: **{name}** (you declined it)"
SORRY = "Sorry, something went wrong on my side. Please try again — nothing you told me is lost."
