"""Conversation stores: sessions and their messages. The contract is in ``base``."""
