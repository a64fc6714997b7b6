"""The terminal's front door: leopard-watch run|demo|detect|import|export|station|camera|doctor|backup."""

from bot.cli.main import main

__all__ = ["main"]
