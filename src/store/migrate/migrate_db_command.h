#pragma once
// `polaris migrate-db --from DB --to DB`: copies a database into an empty one and prints one
// verified line per table. Free of SQL headers, for main.
#include "cli/options.h"

namespace polaris::migrate {

// 0 when everything was copied and verified; 1 (message on stderr) when nothing was.
int RunMigrateDb(const cli::MigrateDbOptions& options);

}  // namespace polaris::migrate
