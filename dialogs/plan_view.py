async def home_summary(coach, user_key):
    from bot.core import HomeSummary

    return HomeSummary(False, False, None, None, 0, 0, True, False)
