#include "store/migrate/checksum.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace polaris::migrate {

struct TableChecksum::Digest {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Digest() { EVP_MD_CTX_free(ctx); }
  void Update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) != 1) {
      throw std::runtime_error("sha256: update failed");
    }
  }
};

TableChecksum::TableChecksum() : digest_(std::make_unique<Digest>()) {
  if (!digest_->ctx || EVP_DigestInit_ex(digest_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: cannot initialize");
  }
}

TableChecksum::~TableChecksum() = default;

void TableChecksum::Add(const Row& row) {
  for (const Value& v : row) {
    if (!v) {
      digest_->Update("N");
      continue;
    }
    digest_->Update("V" + std::to_string(v->size()) + ":");
    digest_->Update(*v);
  }
  digest_->Update(";");
  ++rows_;
}

std::string TableChecksum::Hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(digest_->ctx, md, &len) != 1) {
    throw std::runtime_error("sha256: final failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

TableSummary Summarize(Endpoint& db, const std::string& table,
                       const std::vector<std::string>& columns,
                       const std::vector<std::string>& key) {
  TableChecksum sum;
  db.Scan(table, columns, Order::kKey, key, [&sum](const Row& row) { sum.Add(row); });
  return {sum.rows(), sum.Hex()};
}

}  // namespace polaris::migrate
