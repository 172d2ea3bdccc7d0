#pragma once
#include "store/sqlite/database.h"

namespace polaris::sqlite {

// Applies every numbered migration newer than the file's user_version, each in its own
// transaction. Safe to call at every start.
void Migrate(Database& db);
int SchemaVersion(Database& db);

}  // namespace polaris::sqlite
