"""Every user-facing string of the Slack adapter in one place (the core's strings, and the ones the adapters
share — the welcome on install, the apology for a failed turn — are in bot/messages.py)."""

USAGE = (
    "Here is what `/grow` understands:\n"
    "• `/grow` — start or resume your plan\n"
    "• `/grow plan` — show your plan\n"
    "• `/grow help` — what I can do\n"
    "• `/grow restart` — start your plan again\n"
    "• `/grow my data` — everything I keep about you\n"
    "• `/grow forget me` — delete everything I keep about you\n"
    "• `/grow stop reminders` — no more reminders"
)
SEE_DM = "I'll answer in our direct messages, so what you tell me stays between us."
MENTION = (
    "Hi <@{user}>! I coach people one to one, so I've sent you a direct message — let's talk there."
)
UNKNOWN_ACTION = (
    "Sorry, I don't recognise that button. Say *help* in our direct messages to see what I can do."
)

YOU_CHOSE = "✓ You chose: {label}"
NOTHING_CHOSEN = "nothing"
SUBMIT = "Submit"
CHOOSE_PLACEHOLDER = "Choose…"
PICK_PLACEHOLDER = "Pick any…"
CONTINUED = "(continued)"
DATA_FILE = "{name}"
DATA_FILE_FAILED = "I couldn't attach *{name}* as a file, so here it is in full:"
DATA_FALLBACK = "Your data"

HOME_TITLE = "Your growth plan"
HOME_NO_PLAN = (
    "You don't have a plan yet. I'll ask a few questions about your role, your skills and your goals, "
    "then suggest what to learn next — growing in the role you have (*upskilling*) or moving to a new "
    "one (*reskilling*) — and people who can help."
)
HOME_IN_INTERVIEW = "You're part-way through your plan. Pick up where you left off — it takes a few minutes."
HOME_PLAN = "*{title}*"
HOME_PATH = "Path: *{path}*"
PATH_NAMES = {"upskill": "upskilling — growing in the role you have", "reskill": "reskilling — moving to a new role"}
HOME_PROGRESS = "Progress: {bar} {done} of {total} steps done"
HOME_REMINDERS_ON = "*Reminders:* on — I'll check in now and then."
HOME_REMINDERS_OFF = "*Reminders:* off."
HOME_SHARING_ON = "*Sharing:* your progress counts towards your team's anonymous summary."
HOME_SHARING_OFF = "*Sharing:* off — your progress is not included in any team summary."
HOME_PRIVACY = "Only you can see your answers and your plan. Say *my data* or *forget me* in our messages any time."

BUTTON_START = "Start my plan"
BUTTON_RESUME = "Resume"
BUTTON_SHOW_PLAN = "Show my plan"
BUTTON_RESTART = "Start over"
BUTTON_STOP_REMINDERS = "Stop reminders"
BUTTON_RESUME_REMINDERS = "Resume reminders"
BUTTON_SHARE = "Share my progress"
BUTTON_STOP_SHARING = "Stop sharing"
BUTTON_MY_DATA = "My data"
BUTTON_FORGET = "Forget me"

NOT_MOUNTED = "Slack not mounted: {missing} not set"
