"""QQ adapter speaking OneBot v11 (NapCatQQ, LuckyLilliaBot) over WebSocket."""

from bot.adapters.onebot.adapter import OneBotAdapter
from bot.adapters.onebot.catchup import CatchUpState

__all__ = ["CatchUpState", "OneBotAdapter"]
