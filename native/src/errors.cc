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

const char kBeginLog[] = "-- BEGIN PROG LOAD LOG --\n";
const char kEndLog[] = "-- END PROG LOAD LOG --";
const char kPrefix[] = "libbpf: ";

// The verifier states its reason on the last line before its statistics.
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

}  // namespace

LibbpfLogCapture::LibbpfLogCapture() : previous_(current_capture) { current_capture = this; }
LibbpfLogCapture::~LibbpfLogCapture() { current_capture = previous_; }
LibbpfLogCapture* LibbpfLogCapture::Current() { return current_capture; }
void LibbpfLogCapture::Install() { libbpf_set_print(LibbpfPrint); }

std::string LibbpfLogCapture::VerifierLog() const {
  size_t begin = text_.find(kBeginLog);
  if (begin == std::string::npos) return "";
  begin += sizeof(kBeginLog) - 1;
  size_t end = text_.find(kEndLog, begin);
  return text_.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string LibbpfLogCapture::FirstWarning() const {
  size_t end = text_.find('\n');
  std::string line = text_.substr(0, end);
  if (line.rfind(kPrefix, 0) == 0) line = line.substr(sizeof(kPrefix) - 1);
  return line;
}

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
  if (verifierRejected) return " (the verifier rejected a program: see the error's verifierLog)";
  if (err == EPERM || err == EACCES) return " (run as root or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
  return "";
}

}  // namespace

void ThrowBpfError(Napi::Env env, int err, const std::string& what, const LibbpfLogCapture* log) {
  std::string code = ErrnoName(err);
  std::string message = what + ": " + code + " (" + Describe(err) + ")";
  std::string verifierLog;
  std::string libbpfLog;
  if (log != nullptr) {
    verifierLog = log->VerifierLog();
    libbpfLog = log->text();
    std::string warning = log->FirstWarning();
    if (!warning.empty()) message += ": " + warning;
    std::string reason = VerifierReason(verifierLog);
    if (!reason.empty()) message += "; verifier: " + reason;
  }
  message += Hint(err, !verifierLog.empty());

  // The verifier log only when the verifier ran and rejected a program, so
  // nothing else is ever labelled a verifier rejection.
  Napi::Value verifierValue = verifierLog.empty() ? env.Undefined() : Napi::String::New(env, verifierLog);
  Napi::Value libbpfValue = libbpfLog.empty() ? env.Undefined() : Napi::String::New(env, libbpfLog);
  AddonData& data = Data(env);
  Napi::Object error;
  if (!data.bpfError.IsEmpty()) {
    error = data.bpfError.New({Napi::String::New(env, message), Napi::Number::New(env, err),
                               Napi::String::New(env, code), verifierValue, libbpfValue});
  } else {
    error = Napi::Error::New(env, message).Value();
    error.Set("errno", Napi::Number::New(env, err));
    error.Set("code", Napi::String::New(env, code));
    error.Set("verifierLog", verifierValue);
    error.Set("libbpfLog", libbpfValue);
  }
  throw Napi::Error(env, error);
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
