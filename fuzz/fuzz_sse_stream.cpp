// The provider stream as the OpenAI client reads it: raw bytes, split into socket reads at
// fuzzer-chosen places, through SseParser, and each event's data through CompletionStream
// (text, tool-call delta assembly, finish reason, usage, in-stream errors).
//
// Input: byte 0 = how many split points follow (at most 15), then one byte each (a read
// size), then the stream. Checked besides sanitizers: the events do not depend on how the
// bytes were split (the same stream fed in one piece gives the same events), and
// CompletionStream::OnData never throws (it says so).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "providers/completion_stream.h"
#include "providers/sse_parser.h"

using polaris::providers::CompletionStream;
using polaris::providers::SseEvent;
using polaris::providers::SseParser;

namespace {

bool SameEvents(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t splits = data[0] % 16;
  if (size < 1 + splits) return 0;
  std::vector<std::size_t> reads(data + 1, data + 1 + splits);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1 + splits, size - 1 - splits);

  // In pieces, as socket reads deliver them; the rest in one last read.
  SseParser parser;
  std::vector<SseEvent> events;
  std::string_view rest = stream;
  for (std::size_t n : reads) {
    n = std::min(n, rest.size());
    parser.Feed(rest.substr(0, n), events);
    (void)parser.TakeProgress();
    rest.remove_prefix(n);
  }
  parser.Feed(rest, events);

  SseParser whole;
  std::vector<SseEvent> whole_events;
  whole.Feed(stream, whole_events);
  if (!SameEvents(events, whole_events) || parser.buffered() != whole.buffered()) {
    std::fprintf(stderr, "fuzz: SseParser events depend on how the stream was split\n");
    std::abort();
  }

  CompletionStream completion;
  for (const auto& e : events) {
    auto update = completion.OnData(e.data);
    if (update.error && update.done) {
      std::fprintf(stderr, "fuzz: CompletionStream reported both done and an error\n");
      std::abort();
    }
    if (update.done || update.error) {
      // Sticky: the next payload changes nothing and reports the same outcome.
      const std::string text = completion.text();
      auto again = completion.OnData(R"({"choices":[{"delta":{"content":"x"}}]})");
      if (again.done != update.done || again.error != update.error || completion.text() != text ||
          !again.text.empty()) {
        std::fprintf(stderr, "fuzz: CompletionStream's done/error is not sticky\n");
        std::abort();
      }
    }
  }
  (void)completion.Finish();
  const auto calls = completion.tool_calls();
  (void)calls;
  (void)completion.usage();
  (void)completion.model();
  return 0;
}
