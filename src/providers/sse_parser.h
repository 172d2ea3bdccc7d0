#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML, "Parsing an event stream"). Pure: it
// never does I/O, so the HTTP client can feed it whatever chunks the socket delivers.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace polaris::providers {

struct SseEvent {
  std::string event;  // "message" when the event had no `event:` field, as WHATWG specifies
  std::string data;   // `data:` lines joined with '\n' (no trailing '\n')
  std::string id;     // last event id seen so far on the stream (it persists across events)
};

class SseParser {
 public:
  // Feeds raw bytes, split anywhere (even inside a CRLF or the BOM), and appends every event
  // completed by them to `out`. Bytes are passed through undecoded; the payload is JSON, which
  // the consumer validates. An event left incomplete when the stream ends is never dispatched,
  // as WHATWG requires, so there is no Flush().
  void Feed(std::string_view bytes, std::vector<SseEvent>& out);

  // True if a field line (anything but a comment or a blank line) was seen since the last
  // call. Keep-alive comments such as ": OPENROUTER PROCESSING" do not count, so an idle
  // timeout can tell a queued-forever request from a model that is producing output.
  bool TakeProgress();

  // Bytes held for the incomplete line plus the not-yet-dispatched event. The caller caps it:
  // a peer that never ends a line (or an event) would otherwise grow memory without bound.
  std::size_t buffered() const { return line_.size() + data_.size() + event_.size(); }

 private:
  void ProcessLine(std::string_view line, std::vector<SseEvent>& out);
  void Dispatch(std::vector<SseEvent>& out);

  std::string line_;           // incomplete line carried over between Feed calls
  std::string data_;           // data buffer; each data line appends value + '\n'
  std::string event_;          // event type buffer
  std::string last_event_id_;  // persists across events
  std::size_t bom_matched_ = 0;
  bool bom_done_ = false;
  bool skip_lf_ = false;  // previous byte was a CR: an LF right after it ends no extra line
  bool progress_ = false;
};

}  // namespace polaris::providers
