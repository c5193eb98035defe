// BpfProgram: one program of a BpfObject, and every way Loupe attaches one.
#pragma once

#include <napi.h>

#include <memory>

#include "errors.h"
#include "object_state.h"

namespace loupe {

class NativeProgram : public Napi::ObjectWrap<NativeProgram> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object New(Napi::Env env, std::shared_ptr<ObjectState> state, bpf_program* program);
  explicit NativeProgram(const Napi::CallbackInfo& info);

 private:
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Section(const Napi::CallbackInfo& info);
  Napi::Value Autoload(const Napi::CallbackInfo& info);
  Napi::Value FdNumber(const Napi::CallbackInfo& info);
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value AttachTracepoint(const Napi::CallbackInfo& info);
  Napi::Value AttachRawTracepoint(const Napi::CallbackInfo& info);
  Napi::Value AttachUprobe(const Napi::CallbackInfo& info);
  Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info);
  Napi::Value AttachCgroup(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  bpf_program* OpenProgram(Napi::Env env) const;
  // The program's fd; throws unless the object is loaded and this program with it.
  int LoadedFd(Napi::Env env) const;
  // Wraps a link libbpf made, or throws libbpf's reason for making none.
  Napi::Value LinkOrThrow(Napi::Env env, bpf_link* link, int err, const std::string& what,
                          const LibbpfLogCapture& log);

  std::shared_ptr<ObjectState> state_;
  bpf_program* program_ = nullptr;
  std::string name_;
};

}  // namespace loupe
