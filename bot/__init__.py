"""cchc-bot: the administrative-reform index (Chỉ số CCHC) of a province, run in Telegram chat."""

__version__ = "0.1.0"
