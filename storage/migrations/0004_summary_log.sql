-- Which weekly summaries reached which group: a summary missed while the bot was down, or lost to a
-- network error, is sent when the bot can (see bot/summary_schedule.py), and never twice.
CREATE TABLE summary_log (
    chat_id      INTEGER NOT NULL REFERENCES groups (chat_id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    PRIMARY KEY (chat_id, period_start)
);
