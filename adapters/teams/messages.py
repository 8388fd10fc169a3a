"""The Teams adapter's own user-facing strings (the core's, and the ones the adapters share — the welcome
on install, the apology for a failed turn — are in `bot/messages.py`)."""

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
