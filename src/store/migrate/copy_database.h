#pragma once
// Copies every data table of one database into another, empty one, in a single transaction,
// and verifies the copy (row count and checksum per table, both sides) before committing.
#include <string>
#include <vector>

#include "store/migrate/checksum.h"
#include "store/migrate/endpoint.h"

namespace polaris::migrate {

struct CopiedTable {
  std::string name;
  TableSummary summary;  // the same on both sides
};

// Both endpoints are open and migrated. Throws MigrateError (target not empty, schemas that
// do not match, a value the target cannot hold, a verification mismatch) or StoreError; on
// any failure the target is left exactly as it was. Returns the tables in copy order.
std::vector<CopiedTable> CopyDatabase(Endpoint& source, Endpoint& target);

}  // namespace polaris::migrate
