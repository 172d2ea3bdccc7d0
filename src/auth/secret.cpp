#include "auth/secret.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>

#include "domain/ids.h"

namespace polaris {
namespace {

constexpr const char* kEnvVar = "POLARIS_JWT_SECRET";
constexpr const char* kFileName = "jwt_secret";
constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kMaxSecretBytes = 4096;
// Another process may have created the file but not yet written it; wait this long for it.
constexpr int kEmptyRetries = 50;
constexpr auto kRetryDelay = std::chrono::milliseconds(20);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Error Failure(const std::string& what, const std::string& path) {
  return Error::Internal("Cannot " + what + " JWT secret file " + path);
}

// mkdir -p; directories we create are private to the service user.
bool MakeDirs(const std::string& dir) {
  if (dir.empty()) return true;
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  struct stat st;
  return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

enum class ReadOutcome { kOk, kMissing, kError };

ReadOutcome ReadSecretFile(const std::string& path, std::string& out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno == ENOENT ? ReadOutcome::kMissing : ReadOutcome::kError;
  out.clear();
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadOutcome::kError;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxSecretBytes) return ReadOutcome::kError;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return ReadOutcome::kOk;
}

// Reads an existing secret, tolerating the brief window in which a concurrent creator has made
// the file but not yet written it.
Result<std::string> ReadExisting(const std::string& path) {
  std::string secret;
  for (int attempt = 0; attempt <= kEmptyRetries; ++attempt) {
    ReadOutcome outcome = ReadSecretFile(path, secret);
    if (outcome == ReadOutcome::kError) return Failure("read", path);
    if (outcome == ReadOutcome::kMissing) return Failure("find", path);
    if (!secret.empty()) return secret;
    std::this_thread::sleep_for(kRetryDelay);
  }
  return Error::Internal("JWT secret file " + path + " is empty; delete it to regenerate");
}

std::string RandomHex() {
  unsigned char bytes[kRandomBytes];
  SecureRandom(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * kRandomBytes);
  for (unsigned char b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Makes the new directory entry durable, not just the file content.
void SyncDir(const std::string& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}

}  // namespace

Result<std::string> ResolveHsSecret(const std::string& data_dir) {
  const char* env = std::getenv(kEnvVar);
  if (env != nullptr && *env != '\0') return std::string(env);

  std::string path = data_dir.empty() ? kFileName : data_dir + "/" + kFileName;
  std::string secret;
  switch (ReadSecretFile(path, secret)) {
    case ReadOutcome::kOk:
      if (!secret.empty()) return secret;
      return ReadExisting(path);  // possibly mid-creation by another process
    case ReadOutcome::kError:
      return Failure("read", path);
    case ReadOutcome::kMissing:
      break;
  }

  if (!MakeDirs(data_dir)) return Error::Internal("Cannot create data directory " + data_dir);
  // O_EXCL makes exactly one process the creator; every other one reads the winner's secret.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return ReadExisting(path);
    return Failure("create", path);
  }
  secret = RandomHex();
  if (!WriteAll(fd.get(), secret) || ::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    ::unlink(path.c_str());  // never leave a half-written secret behind
    return Failure("write", path);
  }
  SyncDir(data_dir);
  return secret;
}

}  // namespace polaris
