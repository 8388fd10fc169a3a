"""The organisation: its file (`file`, read by `formats`), reloading it on change (`watch`), tying its
people to platform users (`identity`), who may act for whom (`authorization`), and `skillcoach org check`
(`check`).

Re-exported here: the names the rest of the bot imports from `bot.org`.
"""

from bot.org.authorization import Caller, caller_of, team_for
from bot.org.file import load_directory, load_directory_for
from bot.org.identity import IDENTITIES, NEGATIVE_TTL, email_of, person_of, platform_user_id, remember_identity
from bot.org.watch import watch_org_file

__all__ = ["IDENTITIES", "NEGATIVE_TTL", "Caller", "caller_of", "email_of", "load_directory", "load_directory_for",
           "person_of", "platform_user_id", "remember_identity", "team_for", "watch_org_file"]
