"""Every state of the conversation (the values are what the store keeps; never rename one)."""

from __future__ import annotations

import enum


class S(enum.Enum):
    # the interview
    WELCOME = "welcome"
    ROLE = "role"
    ROLE_CONFIRM = "role_confirm"
    ROLE_PICK = "role_pick"
    ROLE_FIELD = "role_field"
    TENURE = "tenure"
    SKILLS = "skills"
    GOAL = "goal"
    UNSURE_1 = "unsure_1"
    UNSURE_2 = "unsure_2"
    UNSURE_3 = "unsure_3"
    UNSURE_RESULT = "unsure_result"
    TARGET = "target"
    TARGET_CONFIRM = "target_confirm"
    TARGET_PICK = "target_pick"
    TARGET_FIELD = "target_field"
    HOURS = "hours"
    PREFS = "prefs"
    CONSENT = "consent"
    # the plan and progress
    PLAN = "plan"
    MARK_DONE = "mark_done"
    # resting, confirming "forget me", over
    IDLE = "idle"
    FORGET_CONFIRM = "forget_confirm"
    END = "end"


# States in which the interview is under way (not finished, not resting).
INTERVIEW_STATES = {s.value for s in S} - {S.WELCOME.value, S.PLAN.value, S.MARK_DONE.value, S.IDLE.value,
                                           S.FORGET_CONFIRM.value, S.END.value}
