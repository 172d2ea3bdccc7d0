#pragma once
// A scripted OpenAI-compatible chat-completions server for tests, benchmarks and offline
// demos (`polaris mock-llm --port P`). Speaks real HTTP and SSE and can inject faults.
#include <string>

namespace polaris::mockllm {

struct MockOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
};

// Serves until SIGINT/SIGTERM; prints "mock-llm listening on http://HOST:PORT" once bound.
int RunMockLlm(const MockOptions& options);

}  // namespace polaris::mockllm
