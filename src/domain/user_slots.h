#pragma once
// Counts what each user holds open at once (streams, requests in flight) against a maximum.
// A Lease holds one slot until it is destroyed. Thread-safe.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace polaris {

class UserSlots {
 public:
  class Lease {
   public:
    Lease(UserSlots& owner, std::string user) : owner_(owner), user_(std::move(user)) {}
    ~Lease() { owner_.Release(user_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    UserSlots& owner_;
    std::string user_;
  };

  // A slot for user, or null when the user already holds `max` streams.
  std::unique_ptr<Lease> TryAcquire(const std::string& user, int max) {
    std::lock_guard lock(mu_);
    int& n = open_[user];
    if (n >= max) {
      if (n == 0) open_.erase(user);
      return nullptr;
    }
    ++n;
    return std::make_unique<Lease>(*this, user);
  }

  int Open(const std::string& user) {
    std::lock_guard lock(mu_);
    auto it = open_.find(user);
    return it == open_.end() ? 0 : it->second;
  }

 private:
  void Release(const std::string& user) {
    std::lock_guard lock(mu_);
    auto it = open_.find(user);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  }
  std::mutex mu_;
  std::unordered_map<std::string, int> open_;
};

}  // namespace polaris
