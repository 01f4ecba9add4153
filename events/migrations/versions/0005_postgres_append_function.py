"""PostgreSQL: the whole append in one call.

Lock, duplicate check, expected-version check and insert happen inside one PL/pgSQL
function, so a lone append to one stream is a single statement (its own transaction). Appends
to many streams at once use ``signaalhub_lock_and_check`` (0004) and one ``unnest`` insert
instead: this function loops per stream, which is quick for one stream and slow for
hundreds. The rules are those of ``events.store.append_plan`` (which SQLite runs in Python);
the contract test suite holds both to the same behaviour.

Errors: SQLSTATE ``SH001`` for a wrong expected version (detail: "<stream>|<expected>|<actual>")
and ``SH002`` for event ids of which some, but not all, are stored (detail: the stream).
Expected versions are encoded as: -1 any, -2 no stream, n exact.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_LOCK_KEY = 0x5167_6E61_6168_7562


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION signaalhub_append(
            streams text[], expected integer[], counts integer[],
            ids uuid[], types text[], schema_versions integer[],
            payloads text[], metadata text[], recorded timestamptz
        )
        RETURNS TABLE(stream_version integer, appended integer, duplicate boolean)
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            versions jsonb := '{{}}'::jsonb;
            first integer := 1;
            i integer;
            n integer;
            cur integer;
            hits integer;
            hits_here integer;
            row_versions integer[] := ARRAY[]::integer[];
            row_streams text[] := ARRAY[]::text[];
            keep boolean[] := ARRAY[]::boolean[];
        BEGIN
            PERFORM pg_advisory_xact_lock({APPEND_LOCK_KEY});
            FOR i IN 1 .. coalesce(array_length(streams, 1), 0) LOOP
                n := counts[i];
                IF versions ? streams[i] THEN
                    cur := (versions ->> streams[i])::integer;
                ELSE
                    SELECT coalesce(max(e.stream_version), 0) INTO cur
                    FROM events e WHERE e.stream_id = streams[i];
                END IF;
                hits := 0;
                IF n > 0 THEN
                    SELECT count(*), count(*) FILTER (WHERE e.stream_id = streams[i])
                    INTO hits, hits_here
                    FROM events e WHERE e.event_id = ANY(ids[first:first + n - 1]);
                END IF;
                IF hits > 0 THEN
                    IF hits = n AND hits_here = n THEN
                        stream_version := cur; appended := 0; duplicate := true;
                        RETURN NEXT;
                        keep := keep || array_fill(false, ARRAY[n]);
                        row_versions := row_versions || array_fill(0, ARRAY[n]);
                        row_streams := row_streams || array_fill(streams[i], ARRAY[n]);
                        first := first + n;
                        CONTINUE;
                    END IF;
                    RAISE EXCEPTION 'event id conflict' USING ERRCODE = 'SH002',
                        DETAIL = streams[i];
                END IF;
                IF (expected[i] = -2 AND cur <> 0) OR (expected[i] >= 0 AND cur <> expected[i]) THEN
                    RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'SH001',
                        DETAIL = streams[i] || '|' || expected[i] || '|' || cur;
                END IF;
                keep := keep || array_fill(true, ARRAY[n]);
                row_versions := row_versions || ARRAY(SELECT generate_series(cur + 1, cur + n));
                row_streams := row_streams || array_fill(streams[i], ARRAY[n]);
                versions := versions || jsonb_build_object(streams[i], cur + n);
                stream_version := cur + n; appended := n; duplicate := false;
                RETURN NEXT;
                first := first + n;
            END LOOP;
            INSERT INTO events (event_id, stream_id, stream_version, event_type,
                                schema_version, payload, metadata, recorded_at)
            SELECT t.id, t.stream, t.version, t.type, t.schema, t.payload, t.meta, recorded
            FROM unnest(ids, row_streams, row_versions, types, schema_versions, payloads,
                        metadata, keep)
                 WITH ORDINALITY AS t(id, stream, version, type, schema, payload, meta, k, n)
            WHERE t.k
            ORDER BY t.n;
        END;
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION signaalhub_append(text[], integer[], integer[], uuid[], text[], "
        "integer[], text[], text[], timestamptz)"
    )
