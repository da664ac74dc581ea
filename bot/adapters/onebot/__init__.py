"""QQ adapter speaking OneBot v11 (NapCatQQ, LuckyLilliaBot) over WebSocket."""

from bot.adapters.onebot.adapter import CatchUpState, OneBotAdapter

__all__ = ["CatchUpState", "OneBotAdapter"]
