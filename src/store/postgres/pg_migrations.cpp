#include "store/postgres/pg_migrations.h"

#include <iterator>
#include <string>

namespace polaris::pg {
namespace {

// Numbered migrations; never edit one that has shipped, append a new one instead.
// Every query in pg_repo.cpp is served by an index (see the comment above each).
constexpr const char* kMigrations[] = {
    // V001: the schema of SQLite's V001-V005 in one step. Differences: a `seq` identity
    // column replaces SQLite's rowid as the insertion-order tiebreak; usage triggers compute
    // octet_length(content) instead of a virtual `size` column; and at most one message per
    // project may be processing (a unique partial index, since several processes may write).
    R"sql(
CREATE TABLE projects (
  id            TEXT PRIMARY KEY,
  owner_id      TEXT NOT NULL,
  name          TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  -- Quota usage, kept by the files_usage trigger: a check reads one row per project.
  file_bytes    BIGINT NOT NULL DEFAULT 0,
  file_nodes    BIGINT NOT NULL DEFAULT 0,
  seq           BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX projects_by_owner ON projects(owner_id, creation_time, seq);

CREATE TABLE conversations (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title         TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  seq           BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX conversations_by_project ON conversations(project_id, creation_time, seq);

CREATE TABLE messages (
  id                TEXT PRIMARY KEY,
  conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  project_id        TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role              TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content           TEXT NOT NULL,
  status            TEXT CHECK (status IN ('processing', 'completed', 'cancelled', 'failed')),
  trigger_run_id    TEXT,
  error             TEXT,
  model             TEXT,
  prompt_tokens     BIGINT,
  completion_tokens BIGINT,
  creation_time     BIGINT NOT NULL,
  seq               BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, creation_time, seq);
-- Foreign keys get an index on the referencing side (here and on runs): a cascaded delete
-- looks up the rows referencing each deleted one, and a scan would read the whole table.
CREATE INDEX messages_by_project ON messages(project_id);
CREATE UNIQUE INDEX messages_processing ON messages(project_id) WHERE status = 'processing';

CREATE TABLE tool_calls (
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  position    BIGINT NOT NULL,
  call_id     TEXT NOT NULL,
  name        TEXT NOT NULL,
  args_json   TEXT NOT NULL,
  result_json TEXT,
  PRIMARY KEY (message_id, position)
);

CREATE TABLE files (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  parent_id     TEXT REFERENCES files(id) ON DELETE CASCADE,
  -- Compared and sorted bytewise, as SQLite does, whatever the database's locale.
  name          TEXT COLLATE "C" NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('file', 'folder')),
  content       TEXT,
  creation_time BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  seq           BIGINT GENERATED ALWAYS AS IDENTITY
);
-- One name per folder, whatever the type: a file and a folder may not share a path.
CREATE UNIQUE INDEX files_by_parent_name ON files(project_id, coalesce(parent_id, ''), name);
CREATE INDEX files_by_parent ON files(parent_id);
-- Listings in creation order. Large contents live out of line (TOAST), so the metadata
-- listing reads no content without SQLite's covering index.
CREATE INDEX files_by_project ON files(project_id, creation_time, seq);

CREATE FUNCTION files_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE projects SET file_bytes = file_bytes + coalesce(octet_length(NEW.content), 0),
                        file_nodes = file_nodes + 1
    WHERE id = NEW.project_id;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE projects SET file_bytes = file_bytes - coalesce(octet_length(OLD.content), 0),
                        file_nodes = file_nodes - 1
    WHERE id = OLD.project_id;
  ELSE
    UPDATE projects SET file_bytes = file_bytes - coalesce(octet_length(OLD.content), 0)
                                                + coalesce(octet_length(NEW.content), 0)
    WHERE id = NEW.project_id;
  END IF;
  RETURN NULL;
END
$$;
-- Row triggers also fire for cascaded deletes (a folder, a project).
CREATE TRIGGER files_usage_insert AFTER INSERT ON files
  FOR EACH ROW EXECUTE FUNCTION files_usage();
CREATE TRIGGER files_usage_delete AFTER DELETE ON files
  FOR EACH ROW EXECUTE FUNCTION files_usage();
CREATE TRIGGER files_usage_update AFTER UPDATE OF content ON files
  FOR EACH ROW EXECUTE FUNCTION files_usage();

CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  owner_id        TEXT NOT NULL,
  status          TEXT NOT NULL
                  CHECK (status IN ('queued', 'executing', 'completed', 'failed', 'cancelled')),
  attempt         BIGINT NOT NULL DEFAULT 0,
  created_at      BIGINT NOT NULL,
  started_at      BIGINT,
  finished_at     BIGINT,
  provider        TEXT,
  model           TEXT,
  error           TEXT,
  checkpoint      TEXT NOT NULL DEFAULT '',
  seq             BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX runs_by_message ON runs(message_id);
CREATE INDEX runs_by_conversation ON runs(conversation_id);
CREATE INDEX runs_by_project ON runs(project_id);
CREATE INDEX runs_unfinished ON runs(created_at, seq) WHERE status IN ('queued', 'executing');
CREATE INDEX runs_active_by_owner ON runs(owner_id) WHERE status IN ('queued', 'executing');

CREATE TABLE idempotency_keys (
  owner_id   TEXT NOT NULL,
  key        TEXT NOT NULL,
  response   TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (owner_id, key)
);
)sql",
    // V002 (SQLite's V006): run leases, for several processes, and Convex mutation answers.
    R"sql(
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_expires_at BIGINT NOT NULL DEFAULT 0;
-- Every process looks for expired leases about once a second.
CREATE INDEX runs_unfinished_by_lease ON runs(lease_expires_at)
  WHERE status IN ('queued', 'executing');
-- A fixed number of slots per user: a new answer takes its slot over (bounded storage).
CREATE TABLE mutation_answers (
  owner_id   TEXT NOT NULL,
  slot       BIGINT NOT NULL,
  session_id TEXT NOT NULL,
  request_id BIGINT NOT NULL,
  response   TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (owner_id, slot)
);
)sql",
};

// Any constant shared by every Polaris process: pg_advisory_xact_lock serializes migrations.
constexpr const char* kLockMigrations = "SELECT pg_advisory_xact_lock(7306355521)";
constexpr const char* kCreateVersions =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr const char* kCurrentVersion = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* kRecordVersion = "INSERT INTO schema_migrations(version) VALUES($1)";

// Quotas count bytes with octet_length, which is the UTF-8 size only in a UTF8 database (and
// other encodings cannot hold every text a user may send).
void CheckEncoding(Connection& db) {
  const std::string encoding = db.Exec("SHOW server_encoding").front().Text(0);
  if (encoding != "UTF8") {
    throw PgError("",
                  "postgres: the database uses encoding " + encoding +
                      "; Polaris needs UTF8 (createdb -E UTF8 -T template0)",
                  false);
  }
}

int CurrentVersion(Connection& db) {
  return static_cast<int>(db.Exec(kCurrentVersion).front().Int(0));
}

}  // namespace

int SchemaVersion(Connection& db) {
  auto exists = db.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (exists.front().Text(0) != "t") return 0;
  return CurrentVersion(db);
}

void Migrate(Connection& db) {
  const int target = static_cast<int>(std::size(kMigrations));
  CheckEncoding(db);
  db.Exec("BEGIN");
  try {
    db.Exec(kLockMigrations);  // held until COMMIT: a second process waits, then sees it done
    db.Exec(kCreateVersions);
    for (int v = CurrentVersion(db); v < target; ++v) {
      db.Exec(kMigrations[v]);
      db.Query(kRecordVersion, {v + 1});
    }
    db.Exec("COMMIT");
  } catch (...) {
    try {
      db.Exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

}  // namespace polaris::pg
