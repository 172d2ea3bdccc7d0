#pragma once
// Row count and SHA-256 of a table's rows in a canonical form, computed the same way on
// both sides of a copy: per row, per column, NULL as "N" and a value as
// "V<byte length>:<bytes>" (integers in decimal), then ";" after each row.
#include <cstdint>
#include <memory>
#include <string>

#include "store/migrate/endpoint.h"

namespace polaris::migrate {

class TableChecksum {
 public:
  TableChecksum();
  ~TableChecksum();
  TableChecksum(const TableChecksum&) = delete;
  TableChecksum& operator=(const TableChecksum&) = delete;

  void Add(const Row& row);
  std::int64_t rows() const { return rows_; }
  // Lowercase hex; call once, after the last Add.
  std::string Hex();

 private:
  struct Digest;
  std::unique_ptr<Digest> digest_;
  std::int64_t rows_ = 0;
};

struct TableSummary {
  std::int64_t rows = 0;
  std::string sha256;
  bool operator==(const TableSummary&) const = default;
};

// Reads the table's columns in key order and sums them up.
TableSummary Summarize(Endpoint& db, const std::string& table,
                       const std::vector<std::string>& columns,
                       const std::vector<std::string>& key);

}  // namespace polaris::migrate
