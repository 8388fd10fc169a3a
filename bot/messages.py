"""Every user-facing string of the core in one place (ready for translation later).

Module-level names are the interview's and the global commands'; the classes below hold the texts of
the managers' features (`Nudges`, `Intros`, `Report`). Platform-specific texts live with their adapter
(`adapters/slack/texts.py`, `adapters/teams/messages.py`). Text uses light markdown only: *bold*, "•"
bullets and newlines; adapters convert it.
"""

CHAT_OPENING = "skillcoach chat — type quit or exit (or press Ctrl-D) to leave."
CHAT_HELP_HINT = "In this terminal: type quit or exit (or press Ctrl-D) to leave the chat."
CHAT_GOODBYE = "Goodbye — your answers are kept; run skillcoach chat to continue."
TRY_AGAIN = "I can't reach my notes right now. Please try again in a moment — nothing you told me is lost."

WELCOME = (
    "Hi! I'm *skillcoach*, your career-growth coach. In a few short questions I'll learn about your role, "
    "your skills and where you want to go, then suggest a plan: the skills to build and why, ways to learn "
    "them, and people here who can help.\n\n"
    "*What I keep:* your answers, your plan and your progress, and where to reach you — nothing else. "
    "Your manager never sees your answers: at most a team summary of 5 or more people who agreed to be "
    "counted. Say *my data* to see everything I keep, or *forget me* to delete it, any time."
)
WELCOME_SHORT = "Shall we start? It takes about two minutes."
WELCOME_BACK = "Welcome back! Let's pick up where we left off."
START = "Let's start"
EXPLAIN = "Upskilling or reskilling?"
NOT_NOW = "Not now"
NOT_NOW_REPLY = "No problem. Whenever you're ready, say *start* (or use /grow). Say *help* to see what I can do."

DIFFERENCE = (
    "*Upskilling* means learning new skills for the job you have now — staying current and growing in place. "
    "Ways to do it: learning and development courses, joining a professional association, peer coaching and "
    "mentoring. Example: a marketing professional learns the latest digital marketing trends, data analytics "
    "and social media advertising.\n\n"
    "*Reskilling* means learning new skills to do a different job. Ways to do it: training programs offered by "
    "your employer, learning and skill development, shadowing someone in the role you want, and mentoring. "
    "Example: a journalist moving into software development learns programming languages, web development "
    "and software engineering concepts."
)

ASK_ROLE = (
    "What's your current role? Describe it in your own words — for example \"senior backend dev\", "
    "\"I do social media for our brand\" or \"journalist\"."
)
ASK_ROLE_AGAIN = "Tell me your role in a few words (for example \"data analyst\" or \"I run the office\")."
CONFIRM_ROLE = "Sounds like you're {article} *{title}*. Is that right?"
YES_THATS_ME = "Yes, that's me"
CONFIRM_TARGET = "Do you mean *{title}*?"
YES_THAT_ONE = "Yes, that one"
NO_SOMETHING_ELSE = "No, something else"
PICK_ROLE = "Which of these is closest to \"{text}\"?"
NONE_OF_THESE = "None of these"
CUSTOM_ROLE = (
    "Got it — I'll keep \"{title}\" in your words, in *{family}*. It isn't in my catalog, so the plan will be "
    "a starting point built from that field's common skills and your strengths."
)
CUSTOM_ROLE_NO_FAMILY = (
    "Got it — I'll keep \"{title}\" in your words. It isn't in any field I know, so the plan will be a "
    "starting point built from broadly useful skills and your strengths."
)
ASK_FIELD = (
    "I'm not sure I know \"{text}\" — I'd rather ask than guess. Which field is it closest to? "
    "(Or type your job title in other words.)"
)
NO_FIELD = "None of these"
ROLE_NOTED = "Great, *{title}* it is."

ASK_TENURE = "How long have you been in this role?"
TENURE_CHOICES = (
    ("lt1", "Less than a year"),
    ("1to3", "1–3 years"),
    ("3to5", "3–5 years"),
    ("5plus", "More than 5 years"),
)

ASK_SKILLS = (
    "Which of these do you already use with confidence? Pick any — and you can type others "
    "(e.g. \"SQL, public speaking\")."
)
ASK_SKILLS_NO_LIST = (
    "Which skills do you already use with confidence? List them separated by commas (e.g. \"SQL, public "
    "speaking\"), or say *none*."
)
SKILLS_NOTED = "Noted: {skills}."
SKILLS_NONE = "Noted — we'll start from the basics."
SKILLS_UNKNOWN = "I didn't recognise {unknown}; I kept the rest."

ASK_GOAL = "What's next for you?"
GOAL_GROW = "Grow in my current role"
GOAL_SWITCH = "Move to a different role"
GOAL_UNSURE = "Not sure"
GOAL_SWITCH_TO = "Understood — you'd like to become {article} *{role}*."

UNSURE_INTRO = "That's a good question to ask. Here's the difference:"
UNSURE_AGAIN = "Let's work out which one fits you — three quick questions."
UNSURE_Q1 = "Do you enjoy the core of the work you do now?"
UNSURE_Q1_CHOICES = (("yes", "Yes, mostly"), ("some", "Parts of it"), ("no", "Not really"))
UNSURE_Q2 = "Picture yourself in two years. Are you doing…"
UNSURE_Q2_CHOICES = (("same", "The same kind of work, at a higher level"), ("different", "A different kind of work"),
                     ("dunno", "I can't picture it yet"))
UNSURE_Q3 = "Is there another job here you find yourself curious about?"
UNSURE_Q3_CHOICES = (("yes", "Yes, there is"), ("no", "Not really"))
UNSURE_RECOMMEND_UP = (
    "From your answers, I'd suggest *upskilling*: you like the core of your work and see yourself doing more of "
    "it, so the best return is deepening your current role. Shall we go with that?"
)
UNSURE_RECOMMEND_RE = (
    "From your answers, I'd suggest *reskilling*: you're drawn to a different kind of work, so building the "
    "skills for a new role is the better investment. Shall we go with that?"
)
UNSURE_ACCEPT_UP = "Yes, let's upskill"
UNSURE_ACCEPT_RE = "Yes, let's reskill"
UNSURE_OTHER_UP = "I'd rather move to a different role"
UNSURE_OTHER_RE = "I'd rather grow where I am"

ASK_TARGET = "Which role would you like to move into? Describe it in your own words."
ASK_TARGET_AGAIN = "Tell me that role in a few words (for example \"product manager\" or \"data analyst\")."
TARGET_SAME = "That's the role you have now — so this is growing in place (upskilling). Let's do that."

ASK_HOURS = "How much time a week can you give to learning?"
HOURS_CHOICES = (("2", "1–2 hours"), ("4", "3–5 hours"), ("8", "6–10 hours"), ("12", "More than 10 hours"))
ASK_PREFS = "How do you like to learn? Pick any."
PREF_CHOICES = (
    ("courses", "Courses"),
    ("mentoring", "Mentoring"),
    ("peer_coaching", "Peer coaching"),
    ("shadowing", "Job shadowing"),
    ("associations", "Professional associations"),
)
ASK_CONSENT = (
    "Last question: may I count you in your manager's *team summary*? It only shows totals for groups of 5 or "
    "more people who agreed — never your name, answers or goals. You can change this any time."
)
CONSENT_YES = "Yes, count me in"
CONSENT_NO = "No, keep me out"

PLAN_READY = "Here's your plan. Say *my plan* any time to see it again, or tell me when you finish something."
PLAN_TITLE_UP = "Your upskilling plan: growing as {title}"
PLAN_TITLE_RE = "Your reskilling plan: from {current} to {target}"
PLAN_NO_ORG = (
    "I don't know who in your organisation offers mentoring, peer coaching or shadowing yet — an admin can "
    "load the organisation file (SKILLCOACH_ORG) so I can suggest people. Until then: join the professional "
    "association below or a community of practice in your field, and ask your manager who you could shadow."
)
PLAN_SKILL_DONE = "✓ *{skill}* — done"
PLAN_NO_PEOPLE = "No one is listed yet as a mentor, peer coach or shadowing host for these skills."
PLAN_SKILL = "{i}. *{skill}* — {reason}"
PLAN_OPTION = "    Learn: {title} ({provider}, {type}, {hours:g} h){url}"
PLAN_NO_OPTION = "    Learn: ask your manager or a mentor — no listed option yet"
PLAN_SKILLS = "Skills to build"
PLAN_STRENGTHS = "Strengths that transfer"
PLAN_PEOPLE = "People who can help"
PLAN_PERSON = "{name} ({role}) — {why} · {email}"
PLAN_ASSOCIATION = "Professional association"
PLAN_GLANCE = "At a glance"
PLAN_PATH = "Path"
PLAN_UPSKILLING = "Upskilling"
PLAN_RESKILLING = "Reskilling"
PLAN_HOURS = "Time a week"
PLAN_HOURS_VALUE = "{hours:g} h"
PLAN_READY_IN = "Ready in about"
PLAN_READY_IN_VALUE = "{weeks} weeks ({hours:g} h of learning)"
PLAN_PROGRESS = "Progress"
PLAN_PROGRESS_VALUE = "{done} of {total} skills done"
NEXT_STEPS = "What would you like to do next?"
NEXT_MARK_DONE = "Mark a skill done"
NEXT_SHOW_PLAN = "Show my plan"
NEXT_START_OVER = "Start over"
ASK_WHICH_DONE = "Which one did you finish?"
MARKED_DONE = "Well done! *{skill}* is marked done — {done} of {total} skills complete."
ALREADY_DONE = "*{skill}* was already marked done — {done} of {total} skills complete."
ALL_DONE = "That's every skill in your plan. Time to celebrate — and maybe say *restart* to set the next goal."
NO_SUCH_STEP = "I couldn't find \"{text}\" in your plan. Your skills are: {skills}."
FINISHED_BEFORE_PLAN = (
    "Well done on finishing {thing}! Once we've made your plan I'll keep track of what you finish — "
    "let's get through these questions first."
)
NO_PLAN_YET = "You don't have a plan yet. Say *start* and I'll make one with you — it takes about two minutes."

HELP = (
    "Here's what I can do:\n"
    "• *start* — make or continue your growth plan\n"
    "• *my plan* — see your plan and progress\n"
    "• *I finished …* — mark a skill or course in your plan done\n"
    "• *restart* — start the interview over\n"
    "• *upskilling or reskilling?* — the difference explained\n"
    "• *stop reminders* / *resume reminders* — reminders from your manager\n"
    "• *share my progress* / *stop sharing* — be counted in your manager's team summary (totals only)\n"
    "• *my data* — everything I keep about you\n"
    "• *forget me* — delete everything I keep about you\n"
    "• *cancel* — stop what we're doing"
)
DIDNT_GET = "Sorry, I didn't catch that."
PICK_ONE = "Please pick one of the options (a number works too)."
STALE = "That question was already answered — here's where we are now."
CANCELLED = "Okay, stopped. Your answers so far are saved — say *start* whenever you want to continue."
NOTHING_TO_CANCEL = "There's nothing in progress to cancel."
RESTARTING = "Let's start over."
IDLE_HINT = "Say *my plan* to see your plan, *I finished …* to mark progress, or *help* for everything else."

FORGET_CONFIRM = (
    "This deletes everything I keep about you: your answers, your plan, your progress and where to reach you. "
    "It can't be undone. Delete everything?"
)
FORGET_YES = "Yes, delete everything"
FORGET_NO = "No, keep it"
FORGOTTEN = "Done — everything I kept about you is deleted. If you come back, we'll start fresh."
FORGET_KEPT = "Okay, nothing was deleted."

MY_DATA = "Here's everything I keep about you, in the file *{name}* (JSON). In short:"
DATA_ROLE = "• Your role: {role}"
DATA_PLAN = "• Your plan: {what}, {total} skills ({done} done)"
DATA_PLAN_UPSKILL = "upskilling as {title}"
DATA_PLAN_RESKILL = "reskilling towards {target}"
DATA_NO_PLAN = "• No plan yet"
DATA_NO_PROFILE = "• No profile yet: nothing you've told me is kept"
DATA_SHARING_ON = "• Counted in your manager's team summary (totals for 5 or more people only)"
DATA_SHARING_OFF = "• Not counted in your manager's team summary"
DATA_REMINDERS_ON = "• Reminders from your manager: on"
DATA_REMINDERS_OFF = "• Reminders from your manager: off"
DATA_INTROS = "• Introduction requests you made or received: {n}"
DATA_FORGET = "Say *forget me* to delete all of it."
DATA_FILE_WRITTEN = "The whole export is in {path}"
DATA_FILE_FAILED = "I couldn't write the file ({reason}), so here it is in full:"
REMINDERS_OFF = "Reminders are off — your manager's nudges won't reach you. Say *resume reminders* to turn them back on."
REMINDERS_ON = "Reminders are on again."
SHARING_ON = (
    "Thanks — you're counted in your manager's team summary. It only shows totals for groups of 5 or more, "
    "never your name or answers. Say *stop sharing* to leave it."
)
SHARING_OFF = "Done — you're no longer counted in your manager's team summary. Say *share my progress* to rejoin."

UNKNOWN_COMMAND = "I don't know the command \"{command}\". " + HELP
MANAGER_ONLY = "That's a command for managers."


class Nudges:
    """Nudges: what managers and their reports read (`bot/nudges/`)."""

    NOT_A_MANAGER = (
        "Only managers can nudge a team, and only their own reports. I don't see anyone reporting to you "
        "in the organisation file — if that's wrong, please ask your admin to update it."
    )
    NOT_A_MANAGER_UNKNOWN = (
        "Only managers can nudge a team. I couldn't match you to the organisation file (your email isn't "
        "in it), so I can't tell who your reports are — please ask your admin to add you."
    )
    ADMIN_NO_TEAM = "Nobody reports to you in the organisation file. As an admin, use `--all` to nudge everyone."
    OUTSIDE_TEAM = "I only nudge your own team. Not in your reporting tree: {who}. Nobody was nudged."
    UNKNOWN_TARGETS = "I couldn't find {who} in the organisation file. Nobody was nudged."
    NO_PLATFORM = "I can't send messages on {platform} right now, so nobody was nudged."
    SCHEDULED = "Scheduled: I'll nudge your team every {every}, starting now. `/nudge-team stop` ends it."
    SCHEDULE_STOPPED = "Your scheduled nudges are stopped."
    NO_SCHEDULE = "You have no scheduled nudges. `/nudge-team every 2 weeks` sets one up."
    SCHEDULE_STATUS = "I nudge your {scope} every {every}; the next one is in {days} days.{note}"
    BAD_SCHEDULE = "I can nudge every 1 to 12 weeks, e.g. `every 2 weeks`. Nothing was changed."
    HELP = (
        "*Nudge your team* to make or refresh their growth plan:\n"
        "• `/nudge-team` — your direct reports (`--all`: your whole reporting tree)\n"
        "• `/nudge-team Please take 10 minutes this week` — with a note from you\n"
        "• `/nudge-team every 2 weeks` — on a schedule; `/nudge-team status` shows it, `/nudge-team stop` ends it\n"
        "People who opted out are never nudged, and nobody gets more than one nudge every {days} days."
    )
    NUDGE_INTRO = "*{manager}* asked me to check in with the team about growth plans."
    NUDGE_NEW = (
        "A plan takes about 10 minutes: tell me about your role and where you'd like to go, and I'll suggest "
        "the skills to build, ways to learn them, and colleagues who can help."
    )
    NUDGE_UPDATE = "Your plan was last updated a while ago — a few minutes now keeps it useful."
    NUDGE_CHECKIN = "You already have a plan. A quick check-in: mark what you've done and adjust what's next."
    LABEL_START, LABEL_UPDATE, LABEL_CHECKIN = "Start my plan", "Update my plan", "Check in on my plan"
    LABEL_LATER, LABEL_STOP = "Not now", "Stop these reminders"
    LATER = "No problem — I won't remind you again for a while. Say *start* whenever you're ready."
    STOPPED = "Done — you won't get these reminders any more. Say *resume reminders* if you change your mind."
    MANAGER = "Your manager"   # in NUDGE_INTRO when the manager's name is unknown
    PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}
    EVERY_WEEK, EVERY_WEEKS, EVERY_DAYS = "week", "{weeks:g} weeks", "{days:g} days"
    SCOPE_TREE, SCOPE_DIRECT = "whole reporting tree", "direct reports"
    SCHEDULE_NOTE = "\nNote: {note}"
    # the acknowledgement of `/nudge-team`, then the progress messages and the summary to the manager
    ACK_ONE = "I'll nudge *{n}* person on {platform} now."
    ACK_MANY = "I'll nudge *{n}* people on {platform} now."
    ACK_NOBODY = "Nobody to nudge right now."
    SKIPPED = "Skipped: {what}."
    SKIPPED_LABELS = {"opted_out": "opted out", "recent": "nudged recently",
                      "unreachable": "not reachable on {platform}"}
    SKIPPED_NONE = "none"
    CAP = " (Nobody gets more than one nudge every {days:g} days.)"
    SUMMARY_PROMISE = "I'll send you a summary when it's done."
    PROGRESS = "Nudging your team: {done} of {total} done so far."
    FINISHED = "Nudge finished: *{sent} sent*."
    FINISHED_SCHEDULED = "Scheduled nudge finished: *{sent} sent*."
    FAILED = "Failed: {failed} (I couldn't deliver these after several tries)."
    FAILED_NONE = "Failed: 0."


class Intros:
    """Mentor, peer-coaching and shadowing introductions (`bot/intros/`)."""

    OFFER_VERB = {"mentoring": "mentor you", "peer_coaching": "peer-coach you",
                  "shadowing": "let you shadow them"}
    OFFER_ASK = {"mentoring": "would like you to mentor them", "peer_coaching": "would like you to peer-coach them",
                 "shadowing": "would like to shadow you for a day or two"}
    OFFER_NOUN = {"mentoring": "a mentor", "peer_coaching": "a peer coach", "shadowing": "someone to shadow"}
    ASK_HELP = ("To ask a colleague for help, say for example *ask Report 13 to mentor me* "
                "(or *to peer-coach me*, *to let me shadow them*).")
    NOT_FOUND = "I couldn't find {name} in the organisation file. " + ASK_HELP
    NOT_YOURSELF = "That's you! Pick someone else from your plan."
    ALREADY_ASKED = "You've already asked {name} — I'll tell you as soon as they answer."
    ASKED = ("I've asked *{name}* whether they can {verb}{skills}. They have 3 days to answer; "
             "I'll let you know either way.")
    NOT_AVAILABLE = "{name} can't take anyone on right now."
    NOT_REACHABLE = "I can't reach {name} on {platform}."
    HELPER_DM = ("*{requester}*{role} {ask}{skills}.\nThey found you through their skillcoach growth plan. "
                 "Can you help?")
    LABEL_ACCEPT, LABEL_DECLINE = "Yes, happy to", "Not right now"
    ACCEPTED_HELPER = ("Thank you! I've introduced you to *{requester}*{role}{contact}.\nNext steps: they'll "
                       "message you to set up a first 30-minute conversation — agree what they want to learn, "
                       "and how often you'll meet.{room}")
    ACCEPTED_REQUESTER = ("Good news: *{helper}*{role} agreed to {verb}{skills}{contact}.\nNext steps: send them a "
                          "message today to set up a first 30-minute conversation; bring your plan and one "
                          "question, and agree how often you'll meet.")
    DECLINED_HELPER = "Thanks for letting me know. I'll suggest someone else to them — without mentioning your answer."
    NOT_FOR_YOU = "This request was meant for someone else, so I've left it as it is."
    GONE = "That request is no longer open."
    ANSWERED = "You've already answered this request — thank you."
    EXPIRED_HELPER = "That request expired after 3 days, so I've suggested someone else to them. No need to do anything."
    NEXT_MATCH = ("Your last request for {noun} didn't work out this time — people get busy. *{name}*{role} can "
                  "also help{skills}. Shall I ask them?")
    NO_MATCH = ("Your last request for {noun} didn't work out this time, and I don't see anyone else who offers "
                "that for your skills right now. Say *my plan* to see your other options.")
    LABEL_ASK, LABEL_NO_THANKS = "Ask {name}", "No thanks"
    NO_THANKS = "OK. Say *my plan* whenever you want to look at your options again."
    HELPER_ONLY = "Mentoring settings are for people in the organisation file, and I couldn't find you there."
    PAUSED = "Paused: I won't suggest you to anyone until you say *mentoring resume*."
    RESUMED = "Welcome back: I'll suggest you again — you have room for {room}."
    CAPACITY_SET = "Done: you have room for {room}."
    BAD_CAPACITY = "Please give a whole number from 0 to 20, e.g. *mentoring capacity 3*."
    STATUS = ("You offer {offers}. {state} Say *mentoring pause*, *mentoring resume* or *mentoring capacity N*.")


class Report:
    """The team report, `/team-skills` (`bot/report.py`)."""

    NOT_A_MANAGER = (
        "The team view is for managers: it shows a summary of their reports' growth plans. I don't see "
        "anyone reporting to you in the organisation file."
    )
    NO_TEAM = "Nobody reports to you in the organisation file. As an admin, use `--all` for the whole organisation."
    TOO_FEW = (
        "Fewer than {min} people in {scope} have agreed to share their plans in the team view, so I can't "
        "show it yet — below {min} people a summary could point at someone. It appears once {min} have agreed."
    )
    INTRO_TEXT = "Where {scope} is growing — counts only, over the people who agreed to share."
    HELP = "`/team-skills` shows a summary of your direct reports' plans; `/team-skills --all` your whole reporting tree."
    HELD_BACK = (
        "Where a figure is not shown, one side of it holds fewer than {k} people: its number would single "
        "them out, or let them be worked out from the other numbers."
    )
    TAKEN = "Figures as of {day}, {time}; counted {every}, next on {next}."
    TITLE = "Team skills — {scope}"
    SHARING = "{n} people who agreed to share"
    PLANS = "Plans"
    HAVE_PLAN = "Have a plan"
    UPSKILLING = "Upskilling (growing in their role)"
    RESKILLING = "Reskilling (moving to a new role)"
    TOP_SKILLS = "Skills most being built"
    TOP_SKILL = "• {name} — {count} people"
    NO_TOP_SKILL = "• No skill is being built by {k} or more people yet"
    HELP_SECTION = "Help from colleagues"
    HELPED = "Found a mentor, peer coach or shadowing host"
    PROGRESS = "Progress"
    SKILLS_DONE = "Skills done"
    SKILLS_DONE_VALUE = "{done} of {total} ({pct}%)"
    PROGRESSING = "People who finished at least one skill"
    ABOUT = "About these figures"
    WHEN = "When"
    SCOPE_WIDENED = (
        "You asked for {asked}; it differs from {shown} by fewer than {k} people who share, so the two could "
        "be compared to single someone out. Here is {shown} instead."
    )


class Charts:
    """The team report's charts (`bot/charts.py`): titles, labels and alt texts."""

    SKILLS_TITLE = "Skills most being built (people)"
    SKILLS_ALT = "Bar chart of the skills most being built"
    PATHS_TITLE = "Upskilling vs reskilling (people)"
    PATHS_ALT = "Bar chart of how many people are upskilling, reskilling or have no plan yet"
    UPSKILLING = "Upskilling (growing in their role)"
    RESKILLING = "Reskilling (moving to a new role)"
    NO_PLAN = "No plan yet"
    PROGRESS_TITLE = "Plan progress"
    PROGRESS_ALT = "Bar chart of the skills done in plans and of the people who finished at least one skill"
    SKILLS_IN_PLANS = "Skills in plans\n{done} of {total} done"
    PEOPLE = "People\n{done} of {total} finished a skill"
    DONE = "done"
    TO_DO = "to do"
    FINISHED_ONE = "finished a skill"
    NOT_YET = "not yet"


# the plan's next steps: asking a suggested person for help
ASK_PERSON = {"mentoring": "Ask {name} to mentor me", "peer_coaching": "Ask {name} to peer-coach me",
              "shadowing": "Ask {name} to let me shadow them"}
ASK_PERSON_OTHER = "Ask {name}"


# -- the organisation and introductions (`bot/org/`, `bot/intros/`) ----------------------------------
class Org:
    """Who is calling a manager command (`bot/org/authorization.py`)."""

    CALLER_NAME = "Your manager"  # a caller known by neither the organisation file nor the platform


class IntroWords:
    """The pieces `bot/intros/` builds the `Intros` texts from."""

    ROOM_NONE, ROOM_ONE, ROOM_MANY = "no one more right now", "1 more person", "{n} more people"
    WITH_SKILLS = " with {skills}"
    ROLE = " ({role})"
    CONTACT = " — {email}"
    SOMEONE = "A colleague"  # a requester known by no name
    VERB_DEFAULT, ASK_DEFAULT, NOUN_DEFAULT = "help you", "would like your help", "help"
    PLATFORMS = {"slack": "Slack", "teams": "Teams"}
    ROOM_LEFT = "\nYou have room for {room}; say *mentoring capacity N* to change that."
    NO_OFFERS = "no help in the organisation file yet"
    IS_PAUSED = "You're paused."
    HAS_ROOM = "You have room for {room}."


# -- the adapters' shared texts (Slack and Teams): the welcome on install and the apology for a failed turn
TURN_FAILED = "Sorry, something went wrong on my side. Please try again in a moment — nothing you told me is lost."
INSTALL_WELCOME_TITLE = "Hi, I'm skillcoach"
INSTALL_WELCOME = (
    "I help you grow: I'll ask a few questions about your role, your skills and where you want to go, "
    "then suggest a plan — skills to build, ways to learn, and people here who can help "
    "(mentors, peer coaches, colleagues you can shadow).\n\n"
    "Say *grow* to begin, or *help* to see everything I can do."
)
INSTALL_WELCOME_BUTTON = "Start my plan"
TEAM_WELCOME = (
    "Hi everyone, I'm skillcoach, a career-growth coach. Mention me with *grow* to get a personal plan "
    "— I'll answer you in a private chat, never here."
)
