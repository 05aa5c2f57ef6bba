"""Thin Celery task bodies over services: (session, dispatcher, ids...) -> None."""
