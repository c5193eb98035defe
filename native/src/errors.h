// Errors thrown to JavaScript: BpfError (errno, code, libbpf/verifier log) for
// failures of the kernel or libbpf, TypeError/Error for misuse of the API.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

namespace loupe {

// Collects what libbpf prints on this thread while it is alive, so that a
// failed call can carry libbpf's explanation (and the verifier log) in its
// error instead of on stderr. Debug-level messages are dropped.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  // Installs the libbpf print callback; called once when the addon loads.
  static void Install();

  const std::string& text() const { return text_; }
  // The verifier log libbpf printed for a failed program load, or "".
  std::string VerifierLog() const;
  // libbpf's first warning line (without the "libbpf: " prefix), or "".
  std::string FirstWarning() const;

  // The capture that libbpf output on this thread goes to, if any.
  static LibbpfLogCapture* Current();
  void Append(const std::string& message) { text_ += message; }

 private:
  std::string text_;
  LibbpfLogCapture* previous_;
};

// "EPERM" for EPERM, and names for kernel-internal codes libbpf passes on.
std::string ErrnoName(int err);

// Throws a BpfError: "<what>: <CODE> (<strerror>): <libbpf's reason>".
// err is a positive errno.
[[noreturn]] void ThrowBpfError(Napi::Env env, int err, const std::string& what,
                                const LibbpfLogCapture* log = nullptr);

[[noreturn]] void ThrowUsageError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

// "a, b, c" for error messages that list the names there are.
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace loupe
