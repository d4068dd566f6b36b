"""The shared store: submissions, review, audit, users, tokens, runs, row-level security.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Tables and rules are those of the GeoPackage store (:mod:`ewaste_tracker.submissions
.gpkg_schema`, schema version 2), with what only a server database can add:

* **row-level security** on ``submissions``, ``submission_values``, ``audit`` and ``users``:
  a submitter's database role reads its own country and everything published, and writes its
  own country only; a reviewer reads everything and moves submissions through review;
* **triggers** that set who acted and when (from the database role, not from the client),
  allow only the workflow's changes of state, freeze a submission's content and values once
  sent, and write every change to the append-only ``audit`` table;
* **column privileges**: user roles may change only a submission's state, reviewer and reason;
* **PostGIS**: ``country_outlines`` (Natural Earth, filled by the store after migrating) and
  the view ``published_map``, so a GIS client maps who has published what.

Every object lives in the store's own schema; user roles are members of the store's group
role (``config.attributes["group_role"]``).
"""

from __future__ import annotations

from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STATES = "'draft', 'submitted', 'accepted', 'rejected', 'published'"
_MOVES = ("'draft>submitted', 'submitted>accepted', 'submitted>rejected', "
          "'accepted>rejected', 'accepted>published'")  # fmt: skip
_FROZEN = ("country", "version", "submitter", "submitted_utc", "file_name", "sha256",
           "product_level", "n_values", "first_year", "last_year", "warnings")  # fmt: skip


def _tables(geometry: str) -> str:
    return f"""
CREATE TABLE store_info (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE submissions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  country text NOT NULL CHECK (country ~ '^[A-Z]{{3}}$'),
  version integer NOT NULL CHECK (version > 0),
  state text NOT NULL DEFAULT 'draft' CHECK (state IN ({_STATES})),
  submitter text NOT NULL, submitted_utc timestamptz NOT NULL DEFAULT clock_timestamp(),
  file_name text NOT NULL, sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
  product_level text NOT NULL, n_values integer NOT NULL CHECK (n_values > 0),
  first_year integer NOT NULL, last_year integer NOT NULL, warnings text NOT NULL,
  reviewer text, reason text,
  changed_by text NOT NULL, changed_utc timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (country, version), UNIQUE (id, country),
  CHECK (state <> 'rejected' OR coalesce(reason, '') <> ''));
CREATE INDEX ix_submissions_country ON submissions (country, state);
CREATE INDEX ix_submissions_sha ON submissions (country, sha256);
CREATE TABLE submission_values (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  submission_id bigint NOT NULL, country text NOT NULL, year integer NOT NULL,
  product text NOT NULL, product_level text NOT NULL, indicator text NOT NULL,
  value double precision NOT NULL, unit text NOT NULL, value_t double precision NOT NULL,
  source_sheet text, source_row integer,
  FOREIGN KEY (submission_id, country) REFERENCES submissions (id, country));
CREATE INDEX ix_values_submission ON submission_values (submission_id);
CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time_utc timestamptz NOT NULL DEFAULT clock_timestamp(), actor text NOT NULL,
  action text NOT NULL, submission_id bigint, country text, version integer,
  state_from text, state_to text, sha256 text, file_name text, reason text);
CREATE INDEX ix_audit_submission ON audit (submission_id);
CREATE INDEX ix_audit_country ON audit (country);
CREATE TABLE runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, fingerprint text NOT NULL,
  created_utc timestamptz NOT NULL, tool_version text NOT NULL, label text NOT NULL,
  parameters text NOT NULL, n_rows integer NOT NULL, format text NOT NULL,
  size_bytes integer NOT NULL, indicators bytea NOT NULL);
CREATE INDEX ix_runs_fp ON runs (fingerprint);
CREATE TABLE run_regions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES runs (id), region text NOT NULL,
  n_values integer NOT NULL, first_year integer NOT NULL, last_year integer NOT NULL);
CREATE INDEX ix_run_regions ON run_regions (region, run_id);
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('submitter', 'reviewer')), country text,
  pg_role text UNIQUE, created_utc timestamptz NOT NULL DEFAULT clock_timestamp(),
  disabled_utc timestamptz, changed_by text NOT NULL,
  CHECK (role <> 'submitter' OR country IS NOT NULL));
CREATE TABLE tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_name text NOT NULL REFERENCES users (name), sha256 text NOT NULL UNIQUE,
  label text NOT NULL DEFAULT '', created_utc timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_utc timestamptz, changed_by text NOT NULL);
CREATE TABLE country_outlines (
  iso3 text PRIMARY KEY, name text NOT NULL, geom {geometry}(MultiPolygon, 4326) NOT NULL);
CREATE INDEX ix_outlines_geom ON country_outlines USING gist (geom);
"""


def _functions(schema: str) -> str:
    path = f'SET search_path = "{schema}", pg_temp'
    frozen = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FROZEN)
    cols = ("time_utc, actor, action, submission_id, country, version, state_from, state_to, "
            "sha256, file_name, reason")  # fmt: skip
    return f"""
CREATE FUNCTION ewt_user_role(r name) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER {path}
AS $$ SELECT role FROM users WHERE pg_role = r AND disabled_utc IS NULL $$;
CREATE FUNCTION ewt_user_country(r name) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
{path} AS $$ SELECT country FROM users WHERE pg_role = r AND disabled_utc IS NULL $$;
CREATE FUNCTION ewt_actor(r name) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER {path}
AS $$ SELECT coalesce((SELECT name FROM users WHERE pg_role = r), r::text) $$;

CREATE FUNCTION ewt_submission_guard() RETURNS trigger LANGUAGE plpgsql {path} AS $$
DECLARE
  me_role text := ewt_user_role(current_user);
  me text := ewt_actor(current_user);
BEGIN
  NEW.changed_by := me;
  NEW.changed_utc := clock_timestamp();
  IF TG_OP = 'INSERT' THEN
    NEW.submitted_utc := NEW.changed_utc;
    IF NEW.state <> 'draft' THEN
      RAISE EXCEPTION 'a submission is created as a draft' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.version <> coalesce((SELECT max(p.version) FROM submissions p
                                WHERE p.country = NEW.country), 0) + 1 THEN
      RAISE EXCEPTION 'version % of % is not the next version', NEW.version, NEW.country
        USING ERRCODE = 'check_violation';
    END IF;
    IF me_role IS NOT NULL THEN
      IF me_role <> 'submitter' THEN
        RAISE EXCEPTION 'user % (%) does not submit data', me, me_role
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      NEW.submitter := me;
    END IF;
    RETURN NEW;
  END IF;
  IF {frozen} THEN
    RAISE EXCEPTION 'a stored submission cannot be changed, only moved through review'
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.state IS DISTINCT FROM OLD.state THEN
    IF OLD.state || '>' || NEW.state NOT IN ({_MOVES}) THEN
      RAISE EXCEPTION 'submission %: % to % is not an allowed change of state',
        NEW.id, OLD.state, NEW.state USING ERRCODE = 'check_violation';
    END IF;
    IF me_role = 'submitter' AND NEW.state <> 'submitted' THEN
      RAISE EXCEPTION 'user % is a submitter and does not review', me
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF me_role = 'reviewer' AND NEW.state = 'submitted' THEN
      RAISE EXCEPTION 'user % is a reviewer and does not send drafts', me
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.state = 'draft' AND NEW.n_values <>
        (SELECT count(*) FROM submission_values v WHERE v.submission_id = NEW.id) THEN
      RAISE EXCEPTION 'submission % does not hold all its values', NEW.id
        USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.state IN ('accepted', 'rejected', 'published') THEN
      NEW.reviewer := me;
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION ewt_audit_submission() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
{path} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO audit ({cols}) VALUES (NEW.changed_utc, NEW.changed_by, 'created', NEW.id,
      NEW.country, NEW.version, NULL, NEW.state, NEW.sha256, NEW.file_name, NEW.reason);
  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO audit ({cols}) VALUES (NEW.changed_utc, NEW.changed_by,
      CASE NEW.state WHEN 'submitted' THEN 'submit' WHEN 'accepted' THEN 'accept'
        WHEN 'rejected' THEN 'reject' WHEN 'published' THEN 'publish' END,
      NEW.id, NEW.country, NEW.version, OLD.state, NEW.state, NEW.sha256, NEW.file_name,
      NEW.reason);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION ewt_audit_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER {path}
AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO audit ({cols}) VALUES (clock_timestamp(), NEW.changed_by, 'user added',
        NULL, NEW.country, NULL, NULL, NEW.role, NULL, NULL, NEW.name);
    ELSIF NEW.disabled_utc IS NOT NULL AND OLD.disabled_utc IS NULL THEN
      INSERT INTO audit ({cols}) VALUES (clock_timestamp(), NEW.changed_by, 'user disabled',
        NULL, NEW.country, NULL, NEW.role, NULL, NULL, NULL, NEW.name);
    END IF;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO audit ({cols}) VALUES (clock_timestamp(), NEW.changed_by, 'token created',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NEW.user_name);
  ELSIF NEW.revoked_utc IS NOT NULL AND OLD.revoked_utc IS NULL THEN
    INSERT INTO audit ({cols}) VALUES (clock_timestamp(), NEW.changed_by, 'token revoked',
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NEW.user_name);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION ewt_values_of_drafts() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n JOIN submissions s ON s.id = n.submission_id
             WHERE s.state <> 'draft') THEN
    RAISE EXCEPTION 'values are added to a draft only' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION ewt_refuse() RETURNS trigger LANGUAGE plpgsql {path} AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER a_guard BEFORE INSERT OR UPDATE ON submissions
  FOR EACH ROW EXECUTE FUNCTION ewt_submission_guard();
CREATE TRIGGER b_audit AFTER INSERT OR UPDATE ON submissions
  FOR EACH ROW EXECUTE FUNCTION ewt_audit_submission();
CREATE TRIGGER kept BEFORE DELETE OR TRUNCATE ON submissions
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('submissions are kept');
CREATE TRIGGER of_drafts AFTER INSERT ON submission_values REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_values_of_drafts();
CREATE TRIGGER frozen BEFORE UPDATE OR DELETE OR TRUNCATE ON submission_values
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('stored values cannot be changed');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('the audit trail cannot be changed');
CREATE TRIGGER audit_users AFTER INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION ewt_audit_user();
CREATE TRIGGER audit_tokens AFTER INSERT OR UPDATE ON tokens
  FOR EACH ROW EXECUTE FUNCTION ewt_audit_user();
CREATE TRIGGER users_kept BEFORE DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION ewt_refuse('users are kept (disable them)');
"""


_ME_ROLE = "(SELECT ewt_user_role(current_user))"
_ME_COUNTRY = "(SELECT ewt_user_country(current_user))"


def _security(schema: str, group: str) -> str:
    g = f'"{group}"'
    return f"""
ALTER TABLE submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE submission_values ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE tokens ENABLE ROW LEVEL SECURITY;

CREATE POLICY read ON submissions FOR SELECT USING (
  state = 'published' OR {_ME_ROLE} = 'reviewer' OR country = {_ME_COUNTRY});
CREATE POLICY submit ON submissions FOR INSERT WITH CHECK (
  {_ME_ROLE} = 'submitter' AND country = {_ME_COUNTRY});
CREATE POLICY move ON submissions FOR UPDATE USING (
  {_ME_ROLE} = 'reviewer'
  OR ({_ME_ROLE} = 'submitter' AND country = {_ME_COUNTRY} AND state = 'draft'))
  WITH CHECK ({_ME_ROLE} = 'reviewer' OR country = {_ME_COUNTRY});
CREATE POLICY read ON submission_values FOR SELECT USING (
  EXISTS (SELECT 1 FROM submissions s WHERE s.id = submission_id));
CREATE POLICY submit ON submission_values FOR INSERT WITH CHECK (
  {_ME_ROLE} = 'submitter' AND country = {_ME_COUNTRY});
CREATE POLICY read ON audit FOR SELECT USING (
  {_ME_ROLE} = 'reviewer' OR country = {_ME_COUNTRY});
CREATE POLICY read ON users FOR SELECT USING (
  pg_role = current_user OR {_ME_ROLE} = 'reviewer');

REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA "{schema}" FROM PUBLIC;
GRANT USAGE ON SCHEMA "{schema}" TO {g};
GRANT EXECUTE ON FUNCTION ewt_user_role(name), ewt_user_country(name), ewt_actor(name)
  TO {g};
GRANT SELECT, INSERT ON submissions, submission_values, runs, run_regions TO {g};
GRANT UPDATE (state, reviewer, reason, changed_by, changed_utc) ON submissions TO {g};
GRANT SELECT ON audit, users, store_info, alembic_version, country_outlines TO {g};
"""


def _views(schema: str, group: str) -> str:
    return f"""
CREATE VIEW published_latest WITH (security_invoker = true) AS
  SELECT s.* FROM submissions s WHERE s.state = 'published' AND s.version =
    (SELECT max(p.version) FROM submissions p
     WHERE p.country = s.country AND p.state = 'published');
CREATE VIEW published_map WITH (security_invoker = true) AS
  SELECT o.iso3, o.name, p.id AS submission_id, p.version, p.first_year, p.last_year,
         p.n_values, p.submitter, p.reviewer, p.changed_utc AS published_utc, o.geom
  FROM country_outlines o JOIN published_latest p ON p.country = o.iso3;
GRANT SELECT ON published_latest, published_map TO "{group}";
"""


def _run(script: str) -> None:
    for stmt in _statements(script):
        op.execute(stmt)


def _statements(script: str) -> list[str]:
    """Split on ``;`` at line ends outside ``$$`` bodies."""
    out, cur, in_body = [], [], False
    for line in script.splitlines():
        cur.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            stmt = "\n".join(cur).strip()
            if stmt.strip(";"):
                out.append(stmt)
            cur = []
    rest = "\n".join(cur).strip()
    if rest:
        out.append(rest)
    return out


def upgrade() -> None:
    attrs = context.config.attributes
    schema, group, prefix = attrs["schema"], attrs["group_role"], attrs["role_prefix"]
    bind = op.get_bind()
    ext = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'postgis'"
    ).scalar()
    if ext is None:
        op.execute("CREATE EXTENSION postgis")
        ext = "public"
    exists = bind.exec_driver_sql(
        "SELECT 1 FROM pg_roles WHERE rolname = %(g)s", {"g": group}
    ).scalar()
    if not exists:
        op.execute(f'CREATE ROLE "{group}" NOLOGIN')
    _run(_tables(f'"{ext}".geometry'))
    _run(_functions(schema))
    _run(_security(schema, group))
    _run(_views(schema, group))
    op.execute(
        f"INSERT INTO store_info VALUES ('group_role', '{group}'), ('role_prefix', '{prefix}')"
    )


def downgrade() -> None:
    schema = context.config.attributes["schema"]
    op.execute(f'DROP SCHEMA "{schema}" CASCADE')
