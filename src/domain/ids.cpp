#include "domain/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>

#include "domain/clock.h"

namespace polaris {
namespace {
constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
// The same 32 characters in byte order, for the time prefix, so that ids sort by creation.
constexpr std::string_view kSortedAlphabet = "234567abcdefghijklmnopqrstuvwxyz";
constexpr std::size_t kBodyLen = 26;
constexpr std::size_t kTimeLen = 10;                     // milliseconds since the epoch, 50 bits
constexpr std::size_t kRandomLen = kBodyLen - kTimeLen;  // 80 random bits: still unguessable
}  // namespace

void SecureRandom(void* buf, std::size_t len) {
  auto* p = static_cast<unsigned char*>(buf);
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy source: refusing to make guessable ids
    }
    p += n;
    len -= static_cast<std::size_t>(n);
  }
}

const char* TableTag(Table table) {
  switch (table) {
    case Table::kProject:
      return "prj";
    case Table::kConversation:
      return "cnv";
    case Table::kMessage:
      return "msg";
    case Table::kFile:
      return "fil";
    case Table::kRun:
      return "run";
  }
  return "";
}

// A time prefix, then random characters (like a ULID). Ids created close together sort next
// to each other, so SQLite's id indexes grow at their right edge: one batch of inserts
// touches a few index pages instead of one random page per row.
std::string NewId(Table table) {
  unsigned char bytes[kRandomLen];
  SecureRandom(bytes, sizeof bytes);
  const auto ms = static_cast<std::uint64_t>(NowMillis());
  std::string id = TableTag(table);
  id += '_';
  for (std::size_t i = kTimeLen; i-- > 0;) id += kSortedAlphabet[(ms >> (5 * i)) & 31u];
  for (unsigned char b : bytes) id += kAlphabet[b & 31u];  // 5 bits per char, uniform
  return id;
}

bool IsValidId(std::string_view id, Table table) {
  std::string_view tag = TableTag(table);
  if (id.size() != tag.size() + 1 + kBodyLen) return false;
  if (id.substr(0, tag.size()) != tag || id[tag.size()] != '_') return false;
  for (char c : id.substr(tag.size() + 1)) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace polaris
