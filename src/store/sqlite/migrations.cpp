#include "store/sqlite/migrations.h"

#include <string>

namespace polaris::sqlite {
namespace {

// Numbered migrations; never edit one that has shipped, append a new one instead.
// Every query in sqlite_repo.cpp is served by an index (see the comment above each).
constexpr const char* kMigrations[] = {
    // V001: the document tables.
    R"sql(
CREATE TABLE projects (
  id            TEXT PRIMARY KEY,
  owner_id      TEXT NOT NULL,
  name          TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX projects_by_owner ON projects(owner_id, creation_time);

CREATE TABLE conversations (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title         TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX conversations_by_project ON conversations(project_id, creation_time);

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
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  creation_time     INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, creation_time);
CREATE INDEX messages_processing ON messages(project_id) WHERE status = 'processing';

CREATE TABLE tool_calls (
  message_id  TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  call_id     TEXT NOT NULL,
  name        TEXT NOT NULL,
  args_json   TEXT NOT NULL,
  result_json TEXT,
  PRIMARY KEY (message_id, position)
) WITHOUT ROWID;

CREATE TABLE files (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  parent_id     TEXT REFERENCES files(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('file', 'folder')),
  content       TEXT,
  creation_time INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
-- One name per folder, whatever the type: a file and a folder may not share a path.
CREATE UNIQUE INDEX files_by_parent_name ON files(project_id, ifnull(parent_id, ''), name);
CREATE INDEX files_by_parent ON files(parent_id);
)sql",
    // V002: background runs and Idempotency-Key answers.
    R"sql(
CREATE TABLE runs (
  id              TEXT PRIMARY KEY,
  message_id      TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  owner_id        TEXT NOT NULL,
  status          TEXT NOT NULL
                  CHECK (status IN ('queued', 'executing', 'completed', 'failed', 'cancelled')),
  attempt         INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  finished_at     INTEGER,
  provider        TEXT,
  model           TEXT,
  error           TEXT,
  checkpoint      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_message ON runs(message_id);
CREATE INDEX runs_unfinished ON runs(created_at) WHERE status IN ('queued', 'executing');

CREATE TABLE idempotency_keys (
  owner_id   TEXT NOT NULL,
  key        TEXT NOT NULL,
  response   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner_id, key)
) WITHOUT ROWID;
)sql",
    // V003: quotas. A file's size in bytes as a virtual column, kept in an index so that a
    // project's or owner's usage is summed without reading any content.
    R"sql(
ALTER TABLE files ADD COLUMN size INTEGER
  GENERATED ALWAYS AS (ifnull(length(CAST(content AS BLOB)), 0)) VIRTUAL;
CREATE INDEX files_usage ON files(project_id, size);
)sql",
    // V004: listings without contents. Columns stored after `content` are reached only by
    // reading through it (a 1 MB file is ~250 pages), so the metadata listing gets a covering
    // index in its own order instead.
    R"sql(
CREATE INDEX files_meta ON files(project_id, creation_time, parent_id, name, type, updated_at, id);
)sql",
    // V005: quota usage kept on the project row by triggers, so a check reads one row per
    // project instead of summing the index of every file the owner has (1M entries at the
    // maximum quotas). Triggers also fire for cascaded deletes (a folder, a project).
    R"sql(
ALTER TABLE projects ADD COLUMN file_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN file_nodes INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET
  file_bytes = (SELECT ifnull(sum(size), 0) FROM files WHERE files.project_id = projects.id),
  file_nodes = (SELECT count(*) FROM files WHERE files.project_id = projects.id);
CREATE TRIGGER files_usage_insert AFTER INSERT ON files BEGIN
  UPDATE projects SET file_bytes = file_bytes + NEW.size, file_nodes = file_nodes + 1
  WHERE id = NEW.project_id;
END;
CREATE TRIGGER files_usage_delete AFTER DELETE ON files BEGIN
  UPDATE projects SET file_bytes = file_bytes - OLD.size, file_nodes = file_nodes - 1
  WHERE id = OLD.project_id;
END;
CREATE TRIGGER files_usage_update AFTER UPDATE OF content ON files BEGIN
  UPDATE projects SET file_bytes = file_bytes - OLD.size + NEW.size WHERE id = NEW.project_id;
END;
DROP INDEX files_usage;
)sql",
    // V006: several processes (with PostgreSQL; SQLite keeps the same schema): run leases,
    // and the answers of Convex mutations, so a re-sent one is answered again, not re-run,
    // after a restart too.
    R"sql(
ALTER TABLE runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER NOT NULL DEFAULT 0;
-- A fixed number of slots per user: a new answer takes its slot over, so what a user can make
-- the store keep is bounded whatever the number of sessions and mutations.
CREATE TABLE mutation_answers (
  owner_id   TEXT NOT NULL,
  slot       INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  request_id INTEGER NOT NULL,
  response   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner_id, slot)
);
)sql",
};

}  // namespace

int SchemaVersion(Database& db) {
  auto st = db.Prepare("PRAGMA user_version");
  return st.Step() ? static_cast<int>(st.Int(0)) : 0;
}

void Migrate(Database& db) {
  const int target = static_cast<int>(std::size(kMigrations));
  for (int v = SchemaVersion(db); v < target; ++v) {
    db.Exec("BEGIN IMMEDIATE");
    try {
      db.Exec(kMigrations[v]);
      db.Exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
      db.Exec("COMMIT");
    } catch (...) {
      db.Exec("ROLLBACK");
      throw;
    }
  }
}

}  // namespace polaris::sqlite
