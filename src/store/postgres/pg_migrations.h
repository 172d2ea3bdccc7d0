#pragma once
#include "store/postgres/pg_connection.h"

namespace polaris::pg {

// Applies every numbered migration newer than the database's schema_migrations, all in one
// transaction under an advisory lock, so processes starting together migrate once. Safe to
// call at every start.
void Migrate(Connection& db);
// The newest applied migration, 0 for an empty database.
int SchemaVersion(Connection& db);

}  // namespace polaris::pg
