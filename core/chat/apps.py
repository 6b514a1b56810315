from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "core.chat"
    label = "chat"
    verbose_name = "Bot chats"
