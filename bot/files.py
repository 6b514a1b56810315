"""Images people send (a Telegram photo, or an image sent as a file), fetched through the Bot
API: getFile, then the download from the configured file URL. The bytes are handed to core and
never logged; neither is the download URL, which carries the bot token."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, Message

IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


@dataclass(frozen=True)
class SentImage:
    file_id: str
    size: int | None  # as Telegram reports it, before downloading


class NotAnImage(Exception):
    """A file that is not a JPEG or PNG image."""


def image_of(message: Message) -> SentImage | None:
    """The image a message carries: the largest size of a photo, or an image file. None when
    the message has no photo or file at all; NotAnImage for a file of another kind."""
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height,
                                                       size.file_size or 0))
        return SentImage(file_id=largest.file_id, size=largest.file_size)
    if message.document is not None:
        if (message.document.mime_type or "").lower() not in IMAGE_TYPES:
            raise NotAnImage(message.document.mime_type or "")
        return SentImage(file_id=message.document.file_id, size=message.document.file_size)
    return None


async def download(bot: Bot, file_id: str) -> bytes:
    """The file's bytes (TelegramError when Telegram cannot give them)."""
    file = await bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())
