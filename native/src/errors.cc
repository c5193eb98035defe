#include "errors.h"

#include <bpf/libbpf.h>
#include <string.h>

#include <cstdarg>
#include <cstdio>

#include "addon_data.h"

namespace loupe {

namespace {

thread_local LibbpfLogCapture* current_capture = nullptr;

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  LibbpfLogCapture* capture = LibbpfLogCapture::Current();
  if (capture == nullptr || level == LIBBPF_DEBUG) return 0;
  va_list copy;
  va_copy(copy, args);
  int length = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (length <= 0) return 0;
  std::string message(static_cast<size_t>(length) + 1, '\0');
  vsnprintf(message.data(), message.size(), format, args);
  message.resize(static_cast<size_t>(length));
  capture->Append(message);
  return length;
}

const char kPrefix[] = "libbpf: ";

std::string VerifierReason(const std::string& log) {
  std::string reason;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line.rfind("processed ", 0) == 0 || line.rfind("verification time", 0) == 0 ||
        line.rfind("stack depth", 0) == 0)
      continue;
    reason = line;
  }
  return reason;
}

// libbpf's first warning line (without the "libbpf: " prefix), or "".
std::string FirstWarning(const std::string& log) {
  std::string line = log.substr(0, log.find('\n'));
  if (line.rfind(kPrefix, 0) == 0) line = line.substr(sizeof(kPrefix) - 1);
  return line;
}

}  // namespace

LibbpfLogCapture::LibbpfLogCapture() : previous_(current_capture) { current_capture = this; }
LibbpfLogCapture::~LibbpfLogCapture() { current_capture = previous_; }
LibbpfLogCapture* LibbpfLogCapture::Current() { return current_capture; }
void LibbpfLogCapture::Install() { libbpf_set_print(LibbpfPrint); }


std::string ErrnoName(int err) {
  // Kernel-internal codes (include/linux/errno.h) that reach user space via libbpf.
  switch (err) {
    case 524: return "ENOTSUPP";
    case 525: return "ETOOSMALL";
    case 526: return "ESERVERFAULT";
    case 527: return "EBADTYPE";
  }
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

namespace {

std::string Describe(int err) {
  if (err == 524) return "operation not supported by this kernel or map type";
  return strerror(err);
}

// What usually fixes the common failures. EACCES means a verifier rejection
// only when the verifier left a log; otherwise it is a permission.
std::string Hint(int err, bool verifierRejected) {
  if (verifierRejected) return " (the whole reason is in the error's verifierLog)";
  if (err == EPERM || err == EACCES) return " (run as root or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
  return "";
}

}  // namespace

Napi::Value BpfErrorValue(Napi::Env env, const BpfFailure& failure) {
  std::string code = ErrnoName(failure.err);
  std::string message = failure.what + ": " + code + " (" + Describe(failure.err) + ")";
  if (!failure.program.empty()) {
    // libbpf's warning would only repeat that the program failed to load.
    message += ": the verifier rejected program '" + failure.program + "'";
    std::string reason = VerifierReason(failure.verifierLog);
    if (!reason.empty()) message += ": " + reason;
  } else {
    std::string warning = FirstWarning(failure.libbpfLog);
    if (!warning.empty()) message += ": " + warning;
  }
  message += Hint(failure.err, !failure.verifierLog.empty());

  auto optional = [&](const std::string& text) -> Napi::Value {
    return text.empty() ? env.Undefined() : Napi::String::New(env, text);
  };
  AddonData& data = Data(env);
  if (!data.bpfError.IsEmpty()) {
    return data.bpfError.New({Napi::String::New(env, message), Napi::Number::New(env, failure.err),
                              Napi::String::New(env, code), optional(failure.verifierLog),
                              optional(failure.libbpfLog), optional(failure.program)});
  }
  Napi::Object error = Napi::Error::New(env, message).Value();
  error.Set("errno", Napi::Number::New(env, failure.err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("verifierLog", optional(failure.verifierLog));
  error.Set("libbpfLog", optional(failure.libbpfLog));
  error.Set("program", optional(failure.program));
  return error;
}

void ThrowBpfError(Napi::Env env, int err, const std::string& what, const LibbpfLogCapture* log) {
  BpfFailure failure;
  failure.err = err;
  failure.what = what;
  if (log != nullptr) failure.libbpfLog = log->text();
  throw Napi::Error(env, BpfErrorValue(env, failure));
}

void ThrowUsageError(Napi::Env env, const std::string& message) { throw Napi::Error::New(env, message); }
void ThrowTypeError(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

}  // namespace loupe
