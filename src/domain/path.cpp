#include "domain/path.h"

#include "domain/text.h"

namespace polaris {

Status ValidateName(std::string_view name) {
  if (name.empty()) return Error::BadRequest("Invalid path: empty segment");
  if (name == "." || name == "..")
    return Error::BadRequest("Invalid path: '.' and '..' are not allowed");
  if (name.size() > kMaxNameBytes) return Error::BadRequest("Invalid path: name too long");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7F)
      return Error::BadRequest("Invalid path: control characters are not allowed");
    if (c == '/' || c == '\\')
      return Error::BadRequest("Invalid name: must not contain '/' or '\\'");
  }
  if (!IsValidUtf8(name)) return Error::BadRequest("Invalid path: not valid UTF-8");
  if (HasUnsafeCharacters(name)) {
    return Error::BadRequest(
        "Invalid name: control and bidirectional-override characters are not allowed");
  }
  return Ok();
}

Result<std::string> NormalizeName(std::string_view name) {
  if (auto st = ValidateName(name); !st) return st.error();
  std::string nfc = ToNfc(name);
  if (auto st = ValidateName(nfc); !st) return st.error();
  return nfc;
}

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.empty()) return Error::BadRequest("Invalid path: empty");
  if (path.size() > kMaxPathBytes) return Error::BadRequest("Invalid path: too long");
  if (path.front() == '/') return Error::BadRequest("Invalid path: absolute paths are not allowed");
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    std::string_view seg = path.substr(start, end == std::string_view::npos ? end : end - start);
    auto name = NormalizeName(seg);
    if (!name) return name.error();
    parts.push_back(std::move(*name));
    if (parts.size() > kMaxPathDepth) return Error::BadRequest("Invalid path: too deep");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace polaris
