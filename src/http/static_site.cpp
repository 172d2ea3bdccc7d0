#include "http/static_site.h"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "http/json_util.h"
#include "http/router.h"
#include "http/web_assets.h"

namespace polaris::http {
namespace fs = std::filesystem;

namespace {

// A segment that could step out of the folder or name something odd is never looked up.
bool CleanSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string_view ContentTypeFor(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".json")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

class EmbeddedSite final : public StaticSite {
 public:
  EmbeddedSite() {
    for (const auto& a : EmbeddedWebAssets()) files_[a.path] = File{a.content_type, a.body, a.gzip};
  }
  boost::asio::awaitable<Response> Serve(const Request& req) const override {
    auto where = ResolveSitePath(req.target);
    auto it = files_.find(where.path);
    co_return SiteResponse(where, it == files_.end() ? nullptr : &it->second, req.accept_encoding);
  }

 private:
  std::unordered_map<std::string_view, File> files_;
};

std::optional<std::string> ReadWhole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

class DirectorySite final : public StaticSite {
 public:
  explicit DirectorySite(std::string dir) : root_(fs::weakly_canonical(fs::path(dir))) {}
  ~DirectorySite() override { pool_.join(); }

  boost::asio::awaitable<Response> Serve(const Request& req) const override {
    auto where = ResolveSitePath(req.target);
    auto home = co_await boost::asio::this_coro::executor;
    // Disk reads happen on the pool, never on the event loop.
    co_await boost::asio::post(boost::asio::bind_executor(pool_, boost::asio::use_awaitable));
    std::optional<std::string> body, gzip;
    if (where.kind != SiteLookup::Kind::kNotFound) {
      fs::path p = Inside(where.path);
      if (!p.empty()) {
        body = ReadWhole(p);
        if (body && AcceptsGzip(req.accept_encoding)) gzip = ReadWhole(p.string() + ".gz");
      }
    }
    co_await boost::asio::post(boost::asio::bind_executor(home, boost::asio::use_awaitable));
    File file{ContentTypeFor(where.path), body ? std::string_view(*body) : std::string_view{},
              gzip ? std::string_view(*gzip) : std::string_view{}};
    co_return SiteResponse(where, body ? &file : nullptr, req.accept_encoding);
  }

 private:
  // The regular file at rel under the root, or empty: symbolic links that lead out of the
  // folder and directories are not served.
  fs::path Inside(const std::string& rel) const {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(root_ / fs::path(rel.substr(1)), ec);
    if (ec) return {};
    auto [r, _] = std::mismatch(root_.begin(), root_.end(), p.begin(), p.end());
    if (r != root_.end() || !fs::is_regular_file(p, ec)) return {};
    return p;
  }
  fs::path root_;
  mutable boost::asio::thread_pool pool_{1};
};

}  // namespace

SiteLookup ResolveSitePath(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return {};
  std::vector<std::string> segs;
  for (auto seg : url->segments()) segs.push_back(seg);
  while (!segs.empty() && segs.back().empty()) segs.pop_back();  // "/projects/x/"
  for (const auto& s : segs) {
    if (!CleanSegment(s)) return {};
  }
  if (segs.empty()) return {SiteLookup::Kind::kIndex, "/index.html"};
  if (segs.front() == "assets") {
    if (segs.size() != 2) return {};
    return {SiteLookup::Kind::kAsset, "/assets/" + segs[1]};
  }
  // A single segment with an extension names a file at the root (/index.html, /robots.txt);
  // the page's own routes (/projects, /projects/:id/...) are answered with the page. Anything
  // else is a 404, as it was before there was a page.
  if (segs.size() == 1 && segs[0].find('.') != std::string::npos) {
    return {segs[0] == "index.html" ? SiteLookup::Kind::kIndex : SiteLookup::Kind::kAsset,
            "/" + segs[0]};
  }
  if (segs.front() == "projects") return {SiteLookup::Kind::kIndex, "/index.html"};
  return {};
}

bool AcceptsGzip(std::string_view accept_encoding) {
  std::size_t start = 0;
  while (start < accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(start, end - start);
    start = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::string_view coding = item.substr(0, item.find(';'));
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "x-gzip") continue;
    // "gzip;q=0" refuses it.
    auto q = item.find("q=");
    if (q == std::string_view::npos) return true;
    const std::string weight(item.substr(q + 2));
    return std::strtod(weight.c_str(), nullptr) > 0;
  }
  return false;
}

Response SiteResponse(const SiteLookup& where, const StaticSite::File* file,
                      std::string_view accept_encoding) {
  // The same JSON 404 as every other unknown path.
  if (!file) return ErrorResponse(404, "Not found");
  Response res;
  res.content_type = std::string(file->content_type);
  const bool gz = !file->gzip.empty() && AcceptsGzip(accept_encoding);
  res.body = std::string(gz ? file->gzip : file->body);
  if (gz) res.headers.emplace_back("Content-Encoding", "gzip");
  res.headers.emplace_back("Vary", "Accept-Encoding");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (where.kind == SiteLookup::Kind::kIndex) {
    // The page always asks again, so a new build shows on reload; its assets never change.
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    res.headers.emplace_back("Referrer-Policy", "no-referrer");
    res.headers.emplace_back("X-Frame-Options", "DENY");
  } else if (where.path.starts_with("/assets/")) {
    res.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    res.headers.emplace_back("Cache-Control", "no-cache");
  }
  return res;
}

std::unique_ptr<StaticSite> StaticSite::Embedded() {
  return std::make_unique<EmbeddedSite>();
}

std::unique_ptr<StaticSite> StaticSite::FromDirectory(std::string dir) {
  return std::make_unique<DirectorySite>(std::move(dir));
}

void RegisterWebPage(Router& router, const StaticSite& site) {
  router.SetFallback([&site](Request& req) { return site.Serve(req); });
}

}  // namespace polaris::http
