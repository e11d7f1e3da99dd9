"""Notifications: the outbox sender (sender.py, limits.py, store.py), who gets what (audience.py,
broadcast.py, reminders.py, unreachable.py), the schedule (scheduler.py, leader.py) and their place in
the running app (runtime.py)."""
