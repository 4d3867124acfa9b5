-- A campaign member names its session by interval and Cowrie session id, without the sensor that
-- leads the sessions' primary key: looking members' sessions up (indicator queries, the campaign
-- timeline, MISP exports) needs an index on exactly those columns.
CREATE INDEX IF NOT EXISTS sessions_member_lookup_idx
    ON coord.sessions (interval_start, interval_end, session_id);
