"""Environmental submissions in the shared store: ICT operators' energy and scope 1-2 GHG.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

The tables of the GeoPackage store's environmental layers
(:mod:`ewaste_tracker.submissions.environment`), with the shared store's rules:

* **row-level security**: every user of the store reads them (an accepted environmental
  submission is used by the next estimate at once, as in the embedded store); a submitter
  writes its own country only, a reviewer writes none;
* **triggers** set who submitted and when (from the database role), require the next version,
  refuse any change or deletion of what was stored, and write each submission to ``audit``.
"""

from __future__ import annotations

from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = """
CREATE TABLE env_submissions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  country text NOT NULL CHECK (country ~ '^[A-Z]{3}$'),
  version integer NOT NULL CHECK (version > 0),
  submitter text NOT NULL, submitted_utc timestamptz NOT NULL DEFAULT clock_timestamp(),
  file_name text NOT NULL, sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  n_values integer NOT NULL CHECK (n_values > 0),
  first_year integer NOT NULL, last_year integer NOT NULL, warnings text NOT NULL,
  UNIQUE (country, version), UNIQUE (id, country));
CREATE TABLE env_submission_values (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  submission_id bigint NOT NULL, country text NOT NULL, year integer NOT NULL,
  segment text NOT NULL CHECK (segment IN ('networks', 'data_centres', 'total')),
  indicator text NOT NULL CHECK (indicator IN ('energy', 'scope1', 'scope2')),
  value double precision NOT NULL, unit text NOT NULL,
  value_std double precision NOT NULL CHECK (value_std >= 0), source_row integer,
  FOREIGN KEY (submission_id, country) REFERENCES env_submissions (id, country));
CREATE INDEX ix_env_values_submission ON env_submission_values (submission_id);
"""


def _functions(schema: str) -> str:
    path = f'SET search_path = "{schema}", pg_temp'
    cols = ("time_utc, actor, action, submission_id, country, version, state_from, state_to, "
            "sha256, file_name, reason")  # fmt: skip
    return f"""
CREATE FUNCTION ewt_env_guard() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE
  me_role text := ewt_user_role(current_user);
BEGIN
  NEW.submitted_utc := clock_timestamp();
  IF NEW.version <> coalesce((SELECT max(p.version) FROM env_submissions p
                              WHERE p.country = NEW.country), 0) + 1 THEN
    RAISE EXCEPTION 'version % of % is not the next version', NEW.version, NEW.country
      USING ERRCODE = 'check_violation';
  END IF;
  IF me_role IS NOT NULL THEN
    IF me_role <> 'submitter' THEN
      RAISE EXCEPTION 'user % (%) does not submit data', ewt_actor(current_user), me_role
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.submitter := ewt_actor(current_user);
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION ewt_audit_env() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path}
AS $$
BEGIN
  INSERT INTO audit ({cols}) VALUES (NEW.submitted_utc, NEW.submitter,
    'environment submitted', NULL, NEW.country, NEW.version, NULL, NULL, NEW.sha256,
    NEW.file_name, NULL);
  RETURN NULL;
END $$;
CREATE TRIGGER a_guard BEFORE INSERT ON env_submissions
  FOR EACH ROW EXECUTE FUNCTION ewt_env_guard();
CREATE TRIGGER b_audit AFTER INSERT ON env_submissions
  FOR EACH ROW EXECUTE FUNCTION ewt_audit_env();
CREATE TRIGGER kept BEFORE UPDATE OR DELETE OR TRUNCATE ON env_submissions
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('environmental submissions are kept');
CREATE TRIGGER frozen BEFORE UPDATE OR DELETE OR TRUNCATE ON env_submission_values
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('stored values cannot be changed');
"""


_ME_ROLE = "(SELECT ewt_user_role(current_user))"
_ME_COUNTRY = "(SELECT ewt_user_country(current_user))"


def _security(group: str) -> str:
    return f"""
ALTER TABLE env_submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE env_submission_values ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON env_submissions FOR SELECT USING (true);
CREATE POLICY submit ON env_submissions FOR INSERT WITH CHECK (
  {_ME_ROLE} = 'submitter' AND country = {_ME_COUNTRY});
CREATE POLICY read ON env_submission_values FOR SELECT USING (true);
CREATE POLICY submit ON env_submission_values FOR INSERT WITH CHECK (
  {_ME_ROLE} = 'submitter' AND country = {_ME_COUNTRY});
REVOKE ALL ON env_submissions, env_submission_values FROM PUBLIC;
GRANT SELECT, INSERT ON env_submissions, env_submission_values TO "{group}";
"""


def _run(script: str) -> None:
    from ewaste_tracker.submissions.migrations.versions import split_statements

    for stmt in split_statements(script):
        op.execute(stmt)


def upgrade() -> None:
    attrs = context.config.attributes
    _run(_TABLES)
    _run(_functions(attrs["schema"]))
    _run(_security(attrs["group_role"]))


def downgrade() -> None:
    for name in ("env_submission_values", "env_submissions"):
        op.execute(f"DROP TABLE {name}")
    op.execute("DROP FUNCTION ewt_env_guard(), ewt_audit_env()")
