"""Webhooks: subscriptions, the transactional outbox, signed delivery with httpx, the worker."""
