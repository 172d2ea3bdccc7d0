#pragma once
// The IDE page at "/": index.html for the page's routes ("/", "/projects/..."), hashed assets under
// /assets/ (cached for good), gzip when accepted, a Content-Security-Policy that allows scripts
// only from the page itself. Files come from the binary, or from a folder (--web-dir) while working
// on the page; neither lists directories nor serves anything outside its files.
#include <memory>
#include <string>

#include "http/message.h"

namespace polaris::http {

class Router;

class StaticSite {
 public:
  struct File {
    std::string_view content_type;
    std::string_view body;
    std::string_view gzip;  // empty: none
  };
  virtual ~StaticSite() = default;
  virtual boost::asio::awaitable<Response> Serve(const Request& req) const = 0;

  static std::unique_ptr<StaticSite> Embedded();
  // Files are read from dir on each request (off the event loop), so a rebuilt page shows
  // on reload.
  static std::unique_ptr<StaticSite> FromDirectory(std::string dir);
};

// The header set every page answer carries.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// Where a request target leads: the page's index, an asset, or nothing (404).
struct SiteLookup {
  enum class Kind { kIndex, kAsset, kNotFound } kind = Kind::kNotFound;
  std::string path;  // "/index.html" or "/assets/app-x.js" (always a clean relative path)
};
SiteLookup ResolveSitePath(std::string_view target);
bool AcceptsGzip(std::string_view accept_encoding);
// The answer for a found file (headers, gzip choice) or a 404.
Response SiteResponse(const SiteLookup& where, const StaticSite::File* file,
                      std::string_view accept_encoding);

void RegisterWebPage(Router& router, const StaticSite& site);

}  // namespace polaris::http
