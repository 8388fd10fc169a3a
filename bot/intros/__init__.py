"""Mentor, peer-coaching and shadowing introductions.

From a plan's people, "ask <person> to mentor me" (or "… to peer-coach me", "… to let me shadow them",
or the plan's button ``intro:ask:<email>:<offer>``) sends that person a direct message — who asks, and
the skills they would help with — with accept / decline (``intro:accept:<id>`` / ``intro:decline:<id>``).

* Accept: both get an introduction with next steps; the helper's remaining capacity goes down by one.
* Decline, or no answer within 3 days (a job in the queue ``intro-expiry`` due then): the requester is
  offered the next match — the plan's other people, then anyone in the organisation file offering the
  same help for the same skills — and is never told who declined.
* Capacity is respected: a helper who is paused or has no room left is skipped, silently.
* A helper can say `mentoring pause`, `mentoring resume`, `mentoring capacity N` (or `mentoring status`);
  it applies to every kind of help they offer.

Introductions work within one platform: the helper is reached on the requester's platform (their id in
the organisation file, else by email lookup).

Asking is `asking`, the answers and expiry `answers`, messages through the outbox `outreach`, a helper's
own settings `mentoring`, `my data` / `forget me` `privacy`, the records `records`; `register` installs it
all in a coach. Re-exported here: the names the rest of the bot uses.
"""

from bot.intros.answers import expire_due, expiry_task
from bot.intros.asking import parse_ask
from bot.intros.records import HISTORY, INTROS, helper_state
from bot.intros.wiring import register

__all__ = ["HISTORY", "INTROS", "expire_due", "expiry_task", "helper_state", "parse_ask", "register"]
