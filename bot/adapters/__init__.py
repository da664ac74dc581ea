"""Chat platform adapters: each turns wire events into bot.events and sends text back."""
