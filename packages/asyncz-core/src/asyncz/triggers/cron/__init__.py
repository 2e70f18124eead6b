"""Cron schedules: fire when the wall clock in the trigger's time zone matches the fields.

DST rules (a product promise, tested by property tests over real zones):

1. Fields match wall-clock time in the trigger's ``timezone``.
2. A matching wall time that does not exist (skipped by a spring-forward gap) fires once,
   at the first instant after the gap: a daily 02:30 in America/New_York fires at 03:00
   EDT on the spring-forward day. Several matches inside one gap collapse into that one
   fire, which is also the fire of a match at the gap's end (same instant, fired once).
   The day is never skipped.
3. A wall time that occurs twice (fall-back) fires once, at its first occurrence. Except
   when the hour field is unrestricted (every hour matches): such sub-daily schedules
   follow elapsed time and also fire in the repeated period's second occurrence, so
   ``*/30 * * * *`` fires at 01:00 EDT, 01:30 EDT, 01:00 EST and 01:30 EST.
4. Fire times strictly increase, the same instant never fires twice, and every fire's
   local wall time matches the fields (or is a gap's end, per rule 2).
5. Zones with 30-minute shifts (Australia/Lord_Howe), fixed offsets and zones without DST
   follow the same rules.

Searching stops at the end of year 2999: a schedule with no match before then is finished
(``get_next_trigger_time`` returns ``None``).
"""

from asyncz.triggers.cron.trigger import CronTrigger

__all__ = ["CronTrigger"]
