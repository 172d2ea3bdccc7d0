#pragma once
// Fixture for the service tests: a real SqliteRepo over a migrated temp database file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "domain/ids.h"
#include "services/conversations.h"
#include "services/projects.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"

namespace polaris::services_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "polaris_services_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServicesFixture : public ::testing::Test {
 protected:
  static constexpr const char* kAlice = "user_alice";
  static constexpr const char* kBob = "user_bob";

  void SetUp() override {
    db_ = std::make_unique<sqlite::Database>(dir_.path() + "/polaris.db", false);
    db_->Exec("PRAGMA synchronous=OFF");  // speed only; durability is not under test here
    sqlite::Migrate(*db_);
    repo_ = std::make_unique<sqlite::SqliteRepo>(*db_);
  }
  void TearDown() override {
    repo_.reset();
    db_.reset();
  }

  Repo& repo() { return *repo_; }

  Project MakeProject(const std::string& user, const std::string& name = "Project",
                      Millis now = 1000) {
    auto p = services::CreateProject(*repo_, user, name, now);
    if (!p.ok()) {
      ADD_FAILURE() << "CreateProject: " << p.error().message;
      return {};
    }
    return p.value();
  }
  Conversation MakeConversation(const std::string& user, const std::string& project_id,
                                Millis now = 1000) {
    auto c = services::CreateConversation(*repo_, user, project_id, std::nullopt, now);
    if (!c.ok()) {
      ADD_FAILURE() << "CreateConversation: " << c.error().message;
      return {};
    }
    return c.value();
  }
  Message MakeMessage(const Conversation& c, Role role, Millis now,
                      const std::string& content = "hello") {
    Message m;
    m.id = NewId(Table::kMessage);
    m.creation_time = now;
    m.conversation_id = c.id;
    m.project_id = c.project_id;
    m.role = role;
    m.content = content;
    if (role == Role::kAssistant) m.status = MessageStatus::kCompleted;
    repo_->InsertMessage(m);
    return m;
  }
  Millis ProjectUpdatedAt(const std::string& project_id) {
    auto p = repo_->GetProject(project_id);
    return p ? p->updated_at : -1;
  }

  TempDir dir_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<sqlite::SqliteRepo> repo_;
};

}  // namespace polaris::services_test
