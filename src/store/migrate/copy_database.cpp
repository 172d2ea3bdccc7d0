#include "store/migrate/copy_database.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace polaris::migrate {
namespace {

// The tables Polaris knows, parents first; others follow by name, after what they reference.
constexpr std::string_view kKnownOrder[] = {
    "projects", "conversations", "messages", "tool_calls", "files", "runs", "idempotency_keys"};

std::size_t Rank(const std::string& table) {
  auto it = std::find(std::begin(kKnownOrder), std::end(kKnownOrder), table);
  return static_cast<std::size_t>(it - std::begin(kKnownOrder));
}

struct Plan {
  std::string table;
  std::vector<std::string> columns;     // the source's writable columns, all in the target
  std::vector<std::string> key;         // the rows' order for the checksums
  std::vector<std::string> references;  // tables the target's foreign keys point to
};

// Known order first, then any table whose referenced tables are all copied before it (a
// cycle falls back to the known order: the foreign key checks then have the last word).
std::vector<Plan> Ordered(std::vector<Plan> plans) {
  std::sort(plans.begin(), plans.end(), [](const Plan& a, const Plan& b) {
    return std::tuple(Rank(a.table), a.table) < std::tuple(Rank(b.table), b.table);
  });
  std::set<std::string> pending;
  for (const auto& p : plans) pending.insert(p.table);
  std::vector<Plan> out;
  while (!plans.empty()) {
    auto ready = std::find_if(plans.begin(), plans.end(), [&](const Plan& p) {
      return std::none_of(p.references.begin(), p.references.end(), [&](const std::string& r) {
        return r != p.table && pending.contains(r);
      });
    });
    if (ready == plans.end()) ready = plans.begin();
    pending.erase(ready->table);
    out.push_back(std::move(*ready));
    plans.erase(ready);
  }
  return out;
}

std::vector<Plan> MakePlans(const std::vector<TableInfo>& source,
                            const std::vector<TableInfo>& target) {
  std::map<std::string, const TableInfo*> in_target;
  for (const auto& t : target) in_target[t.name] = &t;
  std::vector<Plan> plans;
  for (const auto& s : source) {
    auto it = in_target.find(s.name);
    if (it == in_target.end()) {
      throw MigrateError("table " + s.name +
                         " of the source does not exist in the target (was the source "
                         "written by a newer Polaris?)");
    }
    const TableInfo& t = *it->second;
    for (const auto& c : s.columns) {
      if (std::find(t.columns.begin(), t.columns.end(), c) == t.columns.end()) {
        throw MigrateError("column " + s.name + "." + c +
                           " of the source has no writable counterpart in the target (was the "
                           "source written by a newer Polaris?)");
      }
    }
    // Without a primary key, ordering by every column still gives both sides one order.
    plans.push_back(
        {s.name, s.columns, s.primary_key.empty() ? s.columns : s.primary_key, t.references});
  }
  return Ordered(std::move(plans));
}

void CopyTable(Endpoint& source, Endpoint& target, const Plan& p) {
  auto sink = target.Insert(p.table, p.columns, p.key);
  // In insertion order, so that the target lists ties (same creation time) the same way
  // and a folder comes before what it holds.
  source.Scan(p.table, p.columns, Order::kInsertion, p.key,
              [&sink](const Row& row) { sink->Add(row); });
  sink->Finish();
}

std::vector<CopiedTable> CopyInTransaction(Endpoint& source, Endpoint& target) {
  const auto source_tables = source.Tables();
  const auto target_tables = target.Tables();
  std::vector<std::string> target_names;
  for (const auto& t : target_tables) target_names.push_back(t.name);
  target.Lock(target_names);
  for (const auto& name : target_names) {
    if (const auto n = target.Count(name); n > 0) {
      throw MigrateError("target database is not empty: table " + name + " has " +
                         std::to_string(n) + " rows");
    }
  }
  const auto plans = MakePlans(source_tables, target_tables);
  std::vector<std::string> copied;
  for (const auto& p : plans) copied.push_back(p.table);

  target.SuspendTriggers(copied);
  for (const auto& p : plans) CopyTable(source, target, p);
  target.ResumeTriggers();
  target.CheckConstraints();

  // Verified before the commit: a mismatch rolls everything back.
  std::vector<CopiedTable> out;
  std::string mismatches;
  for (const auto& p : plans) {
    const TableSummary in_source = Summarize(source, p.table, p.columns, p.key);
    const TableSummary in_target = Summarize(target, p.table, p.columns, p.key);
    if (in_source != in_target) {
      mismatches += "\n  table " + p.table + ": source rows=" + std::to_string(in_source.rows) +
                    " sha256=" + in_source.sha256 +
                    ", target rows=" + std::to_string(in_target.rows) +
                    " sha256=" + in_target.sha256;
    }
    out.push_back({p.table, in_source});
  }
  if (!mismatches.empty()) {
    throw MigrateError("verification failed, nothing was committed:" + mismatches);
  }
  return out;
}

}  // namespace

std::vector<CopiedTable> CopyDatabase(Endpoint& source, Endpoint& target) {
  try {
    source.BeginRead();
    target.BeginWrite();
    auto copied = CopyInTransaction(source, target);
    target.Commit();
    source.Rollback();  // ends the read snapshot; it wrote nothing
    return copied;
  } catch (...) {
    target.Rollback();
    source.Rollback();
    throw;
  }
}

}  // namespace polaris::migrate
