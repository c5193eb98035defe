// Errors thrown to JavaScript: BpfError (errno, code, libbpf's log, and for a
// verifier rejection the program and its verifier log) for failures of the
// kernel or libbpf, TypeError/Error for misuse of the API.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace loupe {

// Collects what libbpf prints on this thread while it is alive, so that a
// failed call can carry libbpf's explanation in its error instead of on
// stderr. libbpf's print callback is process-wide; the capture is per thread,
// so a load on a worker thread collects its own output only, whatever else
// loads at the same time. Debug-level messages are dropped.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  // Installs the libbpf print callback; called once when the addon loads.
  static void Install();

  const std::string& text() const { return text_; }

  // The capture that libbpf output on this thread goes to, if any.
  static LibbpfLogCapture* Current();
  void Append(const std::string& message) { text_ += message; }

 private:
  std::string text_;
  LibbpfLogCapture* previous_;
};

// "EPERM" for EPERM, and names for kernel-internal codes libbpf passes on.
std::string ErrnoName(int err);

// What a failed libbpf call left to explain it. program and verifierLog are
// set only when the verifier rejected a program: its name and its own log.
struct BpfFailure {
  int err = 0;  // a positive errno
  std::string what;
  std::string libbpfLog;
  std::string program;
  std::string verifierLog;
};

// A BpfError: "<what>: <CODE> (<strerror>): <libbpf's reason>", or for a
// verifier rejection "...: the verifier rejected program '<p>': <reason>".
Napi::Value BpfErrorValue(Napi::Env env, const BpfFailure& failure);

// Throws BpfErrorValue for err (a positive errno) and what libbpf printed.
[[noreturn]] void ThrowBpfError(Napi::Env env, int err, const std::string& what,
                                const LibbpfLogCapture* log = nullptr);

[[noreturn]] void ThrowUsageError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

// "a, b, c" for error messages that list the names there are.
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace loupe
