#include "providers/sse_parser.h"

#include <utility>

namespace polaris::providers {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

void SseParser::Feed(std::string_view bytes, std::vector<SseEvent>& out) {
  // One BOM is stripped at the very start; it may arrive split over several calls.
  while (!bom_done_ && !bytes.empty()) {
    if (bytes.front() == kBom[bom_matched_]) {
      bytes.remove_prefix(1);
      if (++bom_matched_ == kBom.size()) bom_done_ = true;
    } else {
      // Not a BOM after all: the bytes matched so far are ordinary line content.
      line_.append(kBom.substr(0, bom_matched_));
      bom_done_ = true;
    }
  }

  while (!bytes.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    const std::size_t end = bytes.find_first_of("\r\n");
    if (end == std::string_view::npos) {
      line_.append(bytes);
      return;
    }
    const std::string_view piece = bytes.substr(0, end);
    if (bytes[end] == '\r') skip_lf_ = true;
    bytes.remove_prefix(end + 1);
    if (line_.empty()) {
      ProcessLine(piece, out);  // common case: the whole line arrived in this call, no copy
    } else {
      line_.append(piece);
      std::string line = std::move(line_);
      line_.clear();
      ProcessLine(line, out);
    }
  }
}

bool SseParser::TakeProgress() {
  return std::exchange(progress_, false);
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    Dispatch(out);
    return;
  }
  if (line.front() == ':') return;  // comment
  progress_ = true;

  std::string_view field = line;
  std::string_view value;
  if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
  }
  // "retry" and unknown fields are ignored: reconnection is the caller's policy, not the peer's.
}

void SseParser::Dispatch(std::vector<SseEvent>& out) {
  if (data_.empty()) {
    // WHATWG: an event without data lines is dropped, including its event type.
    event_.clear();
    return;
  }
  data_.pop_back();  // the '\n' appended after the last data line
  SseEvent event;
  event.event = event_.empty() ? "message" : std::move(event_);
  event.data = std::move(data_);
  event.id = last_event_id_;
  out.push_back(std::move(event));
  data_.clear();
  event_.clear();
}

}  // namespace polaris::providers
